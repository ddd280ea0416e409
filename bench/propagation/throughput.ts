/** Phase 2 of the propagation benchmark: throughput of one bulk import to both partners. */
import { Readable } from 'node:stream';
import type pg from 'pg';
import { Pool } from 'undici';
import { cpuByProcess, cpuSample } from '../lib/cpu.ts';
import { fmt } from '../lib/format.ts';
import { certify, throughputId } from './decisions.ts';
import { type Options, PUBLISHER, sleep } from './options.ts';
import { connectClient, databases, type Setup, watched } from './setup.ts';

export interface ThroughputRun {
  records: number;
  complete: boolean;
  /** From the start of the import to the moment both partners held every record (or the give-up). */
  seconds: number;
  importSeconds: number | undefined;
  import: { applied: number; published: number; rejected: number } | undefined;
  partners: { adminId: string; held: number; seconds: number | undefined }[];
  outbox: Record<string, number>;
  cpu: [string, number][];
}

function* importLines(records: number): Generator<Buffer> {
  const lines: string[] = [];
  for (let i = 0; i < records; i++) {
    lines.push(JSON.stringify(certify(throughputId(i), i)));
    if (lines.length === 1000 || i === records - 1) {
      yield Buffer.from(`${lines.join('\n')}\n`, 'utf8');
      lines.length = 0;
    }
  }
}

async function holds(db: pg.Client, aeoId: string): Promise<boolean> {
  const rows = (
    await db.query('SELECT 1 FROM operator_state WHERE issuer = $1 AND aeo_id = $2', [PUBLISHER, aeoId])
  ).rows;
  return rows.length > 0;
}

async function countHeld(db: pg.Client): Promise<number> {
  const [row] = (
    await db.query<{ n: string }>('SELECT count(*)::text AS n FROM operator_state WHERE issuer = $1', [
      PUBLISHER,
    ])
  ).rows;
  return Number(row?.n ?? 0);
}

export async function phaseThroughput(setup: Setup, options: Options): Promise<ThroughputRun> {
  const records = options.records;
  const clients = await Promise.all(
    setup.receivers.map(async (node) => {
      const c = connectClient(node.database.url);
      await c.connect();
      return c;
    }),
  );
  const api = new Pool(setup.publisher.apiUrl, {
    connections: 1,
    headersTimeout: options.maxMinutes * 60_000,
    bodyTimeout: options.maxMinutes * 60_000,
  });
  const abort = new AbortController();
  try {
    const base = await Promise.all(clients.map(countHeld));
    const before = await cpuSample(watched(setup), databases(setup));
    const start = performance.now();
    const deadline = start + options.maxMinutes * 60_000;
    let importSeconds: number | undefined;
    let imported: ThroughputRun['import'];
    let importError: unknown;
    const importing = (async () => {
      const res = await api.request({
        path: '/api/v1/register/imports',
        method: 'POST',
        headers: { authorization: `Bearer ${setup.token}`, 'content-type': 'application/x-ndjson' },
        body: Readable.from(importLines(records)),
        signal: abort.signal,
      });
      const text = await res.body.text();
      if (res.statusCode !== 201) throw new Error(`import: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
      const progress = JSON.parse(text) as { applied: number; published: number; rejected: number };
      imported = { applied: progress.applied, published: progress.published, rejected: progress.rejected };
      importSeconds = (performance.now() - start) / 1000;
    })().catch((error: unknown) => {
      importError = error;
    });

    const held = base.map(() => 0);
    const doneAt: (number | undefined)[] = base.map(() => undefined);
    let lastReport = start;
    while (doneAt.some((d) => d === undefined) && performance.now() < deadline && importError === undefined) {
      await sleep(250);
      const report = performance.now() - lastReport > 15_000;
      for (let r = 0; r < clients.length; r++) {
        if (doneAt[r] !== undefined) continue;
        // The last line of the import is committed last: until a partner holds it, a cheap look-up by key
        // says so, and the full count (which also costs the partner's database) is left for the reports.
        if (!report && !(await holds(clients[r]!, throughputId(records - 1)))) continue;
        held[r] = (await countHeld(clients[r]!)) - base[r]!;
        if (held[r]! >= records) doneAt[r] = (performance.now() - start) / 1000;
      }
      if (report) {
        lastReport = performance.now();
        console.error(
          `  phase 2, ${fmt((lastReport - start) / 1000)} s: ` +
            `${imported ? 'import done' : 'importing'}, ` +
            setup.receivers.map((n, r) => `${n.adminId} holds ${fmt(held[r]!)}`).join(', '),
        );
      }
    }
    const complete = doneAt.every((d) => d !== undefined);
    const seconds = complete ? Math.max(...(doneAt as number[])) : (performance.now() - start) / 1000;
    const cpu = cpuByProcess(before, await cpuSample(watched(setup), databases(setup)));
    // Given up in time: the import is cut off. An import that failed by itself fails the run.
    const gaveUp = !complete && importError === undefined;
    if (gaveUp) abort.abort();
    await importing;
    if (importError !== undefined && !gaveUp) throw importError;
    const pe = connectClient(setup.publisher.database.url);
    await pe.connect();
    let outbox: Record<string, number>;
    try {
      const rows = (
        await pe.query<{ state: string; n: string }>(
          'SELECT state, count(*)::text AS n FROM outbox GROUP BY state ORDER BY state',
        )
      ).rows;
      outbox = Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    } finally {
      await pe.end();
    }
    return {
      records,
      complete,
      seconds,
      importSeconds,
      import: imported,
      partners: setup.receivers.map((n, r) => ({ adminId: n.adminId, held: held[r]!, seconds: doneAt[r] })),
      outbox,
      cpu,
    };
  } finally {
    abort.abort();
    await api.close().catch(() => {});
    await Promise.all(clients.map((c) => c.end()));
  }
}
