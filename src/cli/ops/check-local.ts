/**
 * The checks of `check` that need no partner: the keys and certificates the configuration names (each key
 * belongs to its certificate, each chain holds under its profile today), the partners' anchors, the store and
 * Redis. The schema, readable secrets and anchors are the loader's (src/config/load.ts): a configuration that
 * loads has passed them.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { GatewayConfig, Signer } from '../../config/types.ts';
import { parsePemCertificates } from '../../crypto/certificate.ts';
import { validateChain } from '../../crypto/chain.ts';
import { makeRevocation } from '../../crypto/revocation.ts';
import type { ChainPurpose, ParsedCertificate } from '../../crypto/types.ts';
import { closeRedis, createRedis, waitForReady } from '../../queue/connection.ts';
import { maxmemoryPolicyOf, REQUIRED_POLICY } from '../../queue/eviction.ts';
import { withTimeout } from '../../queue/timeout.ts';
import { openEmbedded } from '../../store/embedded.ts';
import { openPostgres } from '../../store/postgres.ts';
import type { Store } from '../../store/types.ts';

export interface CheckLine {
  ok: boolean;
  what: string;
  detail: string;
}

const DAY_MS = 24 * 3600 * 1000;
const spkiOf = (k: KeyObject): Buffer =>
  (k.type === 'public' ? k : createPublicKey(k)).export({ type: 'spki', format: 'der' });
const day = (d: Date) => d.toISOString().slice(0, 10);
const why = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** A chain of ours checked as a partner would, with its own top certificate as the anchor. */
function ownChainProblem(
  chain: readonly ParsedCertificate[],
  purpose: ChainPurpose,
  at: Date,
): string | undefined {
  const top = chain[chain.length - 1]!;
  const trust = {
    adminId: 'home',
    anchors: [top],
    revokedFingerprints: new Set<string>(),
    revocation: makeRevocation({}),
  };
  const checked = validateChain(
    chain.map((c) => c.der),
    trust,
    at,
    purpose,
  );
  return checked.ok ? undefined : `${checked.code}: ${checked.detail}`;
}

function expiry(cert: ParsedCertificate, at: Date): string {
  const left = Math.floor((cert.notAfter.getTime() - at.getTime()) / DAY_MS);
  return `valid until ${day(cert.notAfter)} (${left} days)${left < 30 ? ', renew soon' : ''}`;
}

export function signingChecks(config: GatewayConfig, at: Date): CheckLine[] {
  return config.home.signers.map((s: Signer, i) => {
    const what = `signing key ${i + 1} of ${config.home.signers.length} (kid ${s.kid.slice(0, 12)}…, ${s.alg})`;
    const problem = ownChainProblem(s.chain, 'signing', at);
    const role = i === 0 ? 'signs now' : 'published, not signing';
    return problem === undefined
      ? {
          ok: true,
          what,
          detail: `key matches certificate, chain holds, ${role}, ${expiry(s.chain[0]!, at)}`,
        }
      : { ok: false, what, detail: problem };
  });
}

export function tlsChecks(config: GatewayConfig, at: Date): CheckLine[] {
  const lines: CheckLine[] = [];
  const listeners = [
    { what: 'partner listener TLS (also the client certificate to partners)', tls: config.server.tls },
    { what: 'API listener TLS', tls: config.api.tls },
  ];
  for (const { what, tls } of listeners) {
    if (tls === undefined) {
      if (what.startsWith('partner'))
        lines.push({ ok: true, what, detail: 'none: plain http, mutual TLS off (development only)' });
      continue;
    }
    try {
      const chain = parsePemCertificates(tls.certificatePem);
      const leaf = chain[0];
      if (leaf === undefined) throw new Error('the certificate file holds no certificate');
      const key = createPrivateKey(tls.keyPem);
      if (!spkiOf(key).equals(spkiOf(leaf.publicKey))) {
        lines.push({
          ok: false,
          what,
          detail: 'the key does not belong to the first certificate of the chain',
        });
        continue;
      }
      const problem = ownChainProblem(chain, 'tls-client', at);
      lines.push(
        problem === undefined
          ? { ok: true, what, detail: `key matches certificate, chain holds, ${expiry(leaf, at)}` }
          : { ok: false, what, detail: problem },
      );
    } catch (error) {
      lines.push({ ok: false, what, detail: why(error) });
    }
  }
  return lines;
}

export function anchorChecks(config: GatewayConfig, at: Date): CheckLine[] {
  return config.partners.map((p) => {
    const what = `partner ${p.adminId} anchors`;
    const expired = [...p.trust.anchors, ...p.intermediates].filter(
      (c) => c.notAfter.getTime() <= at.getTime() || c.notBefore.getTime() > at.getTime(),
    );
    if (expired.length > 0) {
      return {
        ok: false,
        what,
        detail: `${expired.length} certificate(s) outside their validity: ${expired.map((c) => c.x509.subject.replace(/\n/g, ', ')).join('; ')}`,
      };
    }
    const crls = p.trust.revocation?.crls.length ?? 0;
    return {
      ok: true,
      what,
      detail: `${p.trust.anchors.length} anchor(s), ${p.intermediates.length} issuing CA(s), ${crls} revocation list(s), MRA ${p.mra.id} ${p.mra.status}`,
    };
  });
}

export async function storeCheck(config: GatewayConfig): Promise<CheckLine> {
  const settings = config.storage;
  if (settings.kind === 'embedded' && !existsSync(settings.dataDir)) {
    return {
      ok: true,
      what: 'store (embedded)',
      detail: `${settings.dataDir} does not exist yet: made at the first start`,
    };
  }
  // A folder without the database's marker holds no store yet: opening it would make one there, and a check
  // writes nothing.
  if (settings.kind === 'embedded' && !existsSync(join(settings.dataDir, 'PG_VERSION'))) {
    return {
      ok: true,
      what: `store (embedded, ${settings.dataDir})`,
      detail: 'no store yet: made at the first start',
    };
  }
  const what = settings.kind === 'postgres' ? 'store (PostgreSQL)' : `store (embedded, ${settings.dataDir})`;
  let store: Store | undefined;
  try {
    store =
      settings.kind === 'postgres'
        ? openPostgres({ connectionString: settings.databaseUrl })
        : await openEmbedded(settings.dataDir);
    const [made] = await store.query<{ t: string | null }>(
      "SELECT to_regclass('schema_migration')::text AS t",
    );
    const [row] =
      made?.t == null
        ? [{ applied: null }]
        : await store.query<{ applied: string }>('SELECT count(*)::text AS applied FROM schema_migration');
    const applied = row?.applied ?? null;
    return {
      ok: true,
      what,
      detail:
        applied === null
          ? 'reachable, empty: the schema is made at the first start'
          : `reachable, ${applied} schema migrations applied`,
    };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // A running gateway holds the embedded folder: that is the folder in use, not a fault of the configuration.
    if (code === 'STORE_LOCKED')
      return { ok: true, what, detail: `in use by a running gateway (${why(error)})` };
    return { ok: false, what, detail: why(error) };
  } finally {
    await store?.close().catch(() => {});
  }
}

export async function redisCheck(config: GatewayConfig, timeoutMs: number): Promise<CheckLine> {
  const where = redisWhere(config.redis.url);
  const what = `redis (${where}, prefix ${config.redis.prefix})`;
  const redis = createRedis(config.redis, 'producer');
  try {
    if (!(await waitForReady(redis, timeoutMs))) {
      return {
        ok: false,
        what,
        detail: 'not reachable: deliveries and webhook notifications wait until it is',
      };
    }
    const policy = maxmemoryPolicyOf(await withTimeout(redis.info('memory'), timeoutMs, 'INFO memory'));
    return policy === REQUIRED_POLICY
      ? { ok: true, what, detail: `reachable, maxmemory-policy ${policy}` }
      : {
          ok: false,
          what,
          detail: `maxmemory-policy is ${policy ?? 'not reported'}; the gateway refuses anything but ${REQUIRED_POLICY}`,
        };
  } catch (error) {
    return { ok: false, what, detail: why(error) };
  } finally {
    await closeRedis(redis, 1_000);
  }
}

/** host:port of a Redis URL, without its credentials. */
function redisWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}`;
  } catch {
    return 'the configured Redis';
  }
}
