/**
 * Two replicas of one administration's gateway (PE) behind one address, as a deployment with a load balancer runs them: two
 * processes with the same configuration apart from their ports, on ONE PostgreSQL database and ONE Redis queue
 * prefix, each listener behind a round-robin TCP balancer (balancer.ts). The partner listener's balancer holds
 * the address the partner (CL, a real gateway in the test process) was told; the API's balancer is the
 * address the national system and the border systems use. A webhook receiver is subscribed for the border.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { RawConfig } from '../../src/config/raw.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Store } from '../../src/store/types.ts';
import type { TestAdmins } from './admins.ts';
import { type Balancer, startBalancer } from './balancer.ts';
import { type ChildGateway, childGateway } from './child-gateway.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { API_TOKENS, bearer, freePorts, makeLinkedAdmins } from './exchange.ts';
import { postTo, startTestGateway, type TestGateway } from './gateway.ts';
import { startReceiver, type WebhookReceiver } from './webhook-receiver.ts';

export const BORDER_TOKEN = randomBytes(32).toString('base64url');

export interface ReplicaSetup {
  admins: TestAdmins;
  a: ChildGateway;
  b: ChildGateway;
  /** PE's database, shared by both replicas. */
  peStore: Store;
  cl: TestGateway;
  partnerLb: Balancer;
  apiLb: Balancer;
  receiver: WebhookReceiver;
  close(): Promise<void>;
}

const TIMINGS = {
  batchSize: 50,
  attempts: 12,
  backoffMs: 200,
  maxBackoffMs: 2_000,
  requestTimeoutMs: 10_000,
  relayIntervalMs: 200,
};

export async function makeReplicaSetup(): Promise<ReplicaSetup> {
  const db: TestDatabase = await createTestDatabase();
  const [aServer, aApi, bServer, bApi] = (await freePorts(4)) as [number, number, number, number];
  let publicPort = 0;
  const admins = await makeLinkedAdmins(['PE', 'CL'], {
    redis: true,
    edit: (id, raw) => {
      raw.outbound = { ...raw.outbound, ...TIMINGS };
      if (id !== 'PE') return;
      publicPort = raw.server?.port ?? 0;
      raw.server = { ...raw.server, port: aServer };
      raw.api = { ...raw.api, port: aApi };
      raw.apiClients = [
        ...(raw.apiClients ?? []),
        {
          id: 'border-risk',
          tokenSha256: createHash('sha256').update(BORDER_TOKEN).digest('hex'),
          scopes: ['border'],
        },
      ];
    },
  });
  // Replica B: the same file apart from its two ports.
  const configA = admins.get('PE').configPath;
  const raw = parse(readFileSync(configA, 'utf8')) as RawConfig;
  raw.server = { ...raw.server, port: bServer };
  raw.api = { ...raw.api, port: bApi };
  const configB = join(admins.dir, 'PE-b.yaml');
  writeFileSync(configB, stringify(raw), 'utf8');

  const quiet = { LOG_LEVEL: 'silent' };
  const a = childGateway({
    configPath: configA,
    databaseUrl: db.url,
    serverPort: aServer,
    apiPort: aApi,
    env: quiet,
  });
  const b = childGateway({
    configPath: configB,
    databaseUrl: db.url,
    serverPort: bServer,
    apiPort: bApi,
    env: quiet,
  });
  await a.start();
  await b.start();
  const partnerLb = await startBalancer([aServer, bServer], publicPort);
  const apiLb = await startBalancer([aApi, bApi]);
  const cl = await startTestGateway(admins.get('CL').config, 'postgres');
  const receiver = await startReceiver();
  const sub = await postTo(
    apiLb.url('/api/v1/subscriptions'),
    { url: receiver.url('/border') },
    { headers: bearer(BORDER_TOKEN) },
  );
  if (sub.status !== 201) throw new Error(`subscription refused: ${sub.status} ${sub.text.slice(0, 300)}`);
  const peStore = openPostgres({ connectionString: db.url });
  return {
    admins,
    a,
    b,
    peStore,
    cl,
    partnerLb,
    apiLb,
    receiver,
    async close() {
      await Promise.all([a.kill(), b.kill()]);
      await cl.close();
      await receiver.stop();
      await partnerLb.close();
      await apiLb.close();
      await peStore.close();
      await db.drop();
      admins.cleanup();
    },
  };
}

/** A certify decision for a new operator of `country`, as the national system posts it. */
export function certifyDecision(aeoId: string, country: string): Record<string, unknown> {
  return {
    decisionId: crypto.randomUUID(),
    aeoId,
    decision: 'certify',
    consent: true,
    programme: 'AEO-F',
    certifiedOn: '2025-03-01',
    operator: {
      identifiers: [{ scheme: 'TIN', value: `${aeoId}T` }],
      name: `Operator ${aeoId}`,
      address: { street: 'Av. Principal 123', city: 'Puerto', country },
      roles: ['exporter', 'manufacturer'],
    },
  };
}

export interface Posted {
  recordId: string;
  /** Tries it took; more than one when a replica died under the request. */
  tries: number;
}

/**
 * Posts a decision until it is acknowledged (201, or 200 for a replay of the same decisionId), as a national
 * system does: a cut connection or a 5xx is retried with the same body, at most `tries` times.
 */
export async function postDecisionUntilAcknowledged(
  apiBase: string,
  body: Record<string, unknown>,
  tries = 8,
): Promise<Posted> {
  let last = '';
  for (let i = 1; i <= tries; i += 1) {
    try {
      const res = await postTo(`${apiBase}/api/v1/decisions`, body, { headers: bearer(API_TOKENS.operator) });
      if (res.status === 201 || res.status === 200) {
        const recordId = (JSON.parse(res.text) as { record: { recordId: string } }).record.recordId;
        return { recordId, tries: i };
      }
      last = `${res.status} ${res.text.slice(0, 200)}`;
      if (res.status < 500) break;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, Math.min(200 * i, 1_000)));
  }
  throw new Error(`decision not acknowledged: ${last}`);
}
