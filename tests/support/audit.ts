/**
 * Tampering for the audit tests: statements run in a transaction that verification then reads, and that is
 * always rolled back, so every case starts from the same intact store.
 */
import { canonicalInstant, entryHash } from '../../src/audit/encoding.ts';
import { type AuditVerification, verifyAudit } from '../../src/audit/verify.ts';
import type { Sql, Store } from '../../src/store/types.ts';

class RolledBack extends Error {
  readonly result: AuditVerification;
  constructor(result: AuditVerification) {
    super('rolled back');
    this.result = result;
  }
}

/** A small page, so that every stream crosses page boundaries even on a short chain. */
export const TEST_PAGE = 3;

/** Runs `change` in a transaction, verifies inside it, rolls it back, and returns what verification found. */
export async function verifyTampered(
  store: Store,
  change: (tx: Sql) => Promise<unknown>,
): Promise<AuditVerification> {
  try {
    await store.transaction(async (tx) => {
      await change(tx);
      throw new RolledBack(await verifyAudit(tx, TEST_PAGE));
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.result;
    throw error;
  }
  throw new Error('the tampering transaction committed');
}

export interface AuditRow {
  seq: number;
  kind: string;
  subject: string;
  hash: string;
  detail: Record<string, unknown> | null;
}

export async function auditRows(sql: Sql): Promise<AuditRow[]> {
  const rows = await sql.query<Omit<AuditRow, 'seq'> & { seq: string }>(
    'SELECT seq::text, kind, subject, hash, detail FROM audit_log ORDER BY audit_log.seq',
  );
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/**
 * Appends an entry as someone who knows the encoding would, with a hash that links: only the evidence
 * checks can tell it from a real one.
 */
export async function forgeEntry(
  tx: Sql,
  entry: { kind: string; actor: string; subject: string; digest: string },
): Promise<number> {
  const [last] = await tx.query<{ seq: string; hash: string }>(
    'SELECT seq::text, hash FROM audit_log ORDER BY audit_log.seq DESC LIMIT 1',
  );
  const seq = Number(last?.seq ?? 0) + 1;
  const now = new Date();
  const prevHash = last?.hash ?? '0'.repeat(64);
  const hash = entryHash({ seq, at: canonicalInstant(now), ...entry, detail: null, prevHash });
  await tx.query(
    `INSERT INTO audit_log (seq, at, kind, actor, subject, digest, detail, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)`,
    [seq, now.toISOString(), entry.kind, entry.actor, entry.subject, entry.digest, prevHash, hash],
  );
  return seq;
}

/** The break verification names after `change`, failing the test when it finds none. */
export async function brokenBy(
  store: Store,
  change: (tx: Sql) => Promise<unknown>,
): Promise<NonNullable<AuditVerification['broken']> & { breaks: number }> {
  const result = await verifyTampered(store, change);
  if (result.broken === undefined) throw new Error('verification found no break');
  return { ...result.broken, breaks: result.breaks };
}

/** The payload of a compact JWS, as a test reads it. */
export function jwsPayload(jws: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}
