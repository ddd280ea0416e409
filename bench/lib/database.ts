/** A fresh PostgreSQL database per benchmark run on the machine's server, dropped at the end. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface Database {
  name: string;
  url: string;
  serverVersion: string;
  /** The server's processes that work for this database, when the server runs on this machine. */
  serverPids(): Promise<{ pid: number; shared: boolean }[]>;
  drop(): Promise<void>;
}

export async function createDatabase(serverUrl: string): Promise<Database> {
  const name = `mra_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  let serverVersion: string;
  try {
    const [row] = (await admin.query<{ server_version: string }>('SHOW server_version')).rows;
    serverVersion = row?.server_version ?? 'unknown';
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    serverVersion,
    async serverPids() {
      if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname)) return [];
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        // This database's backends (the gateway's connections, autovacuum) and the server's shared processes
        // (WAL writer, checkpointer); other databases' backends are left out. The postmaster is not listed.
        const rows = (
          await c.query<{ pid: number; shared: boolean }>(
            `SELECT pid, datname IS NULL AS shared FROM pg_stat_activity
              WHERE pid <> pg_backend_pid() AND (datname = $1 OR datname IS NULL)`,
            [name],
          )
        ).rows;
        return rows;
      } finally {
        await c.end();
      }
    },
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
