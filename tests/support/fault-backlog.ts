/**
 * A register's backlog written straight into PE's outbox for docs/threats.md 66 (the integration test
 * outbound-backlog and the fault suite): `operators` operators, four decisions each (versions 1 to 4), published
 * with the publisher's own functions (the decision rules, the record, the signature, the digest) and written in
 * bulk, in commit order, to partner CL.
 */
import type { Signer } from '../../src/config/types.ts';
import { recordDigest } from '../../src/crypto/digest.ts';
import {
  applyDecision,
  type DecisionInput,
  type HomeOperator,
  recordOf,
} from '../../src/publishing/decision.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';
import type { Store } from '../../src/store/types.ts';

export const aeoIdOf = (i: number) => `PEBL${String(i).padStart(7, '0')}`;

/** Round r of the register: one decision for every operator, so each operator's versions are far apart. */
const ROUNDS: Omit<DecisionInput, 'decisionId' | 'aeoId'>[] = [
  { decision: 'certify', consent: true, programme: 'AEO-F', certifiedOn: '2025-03-01' },
  { decision: 'amend', lastValidatedOn: '2026-01-15' },
  { decision: 'suspend', statusSince: '2026-02-01' },
  { decision: 'certify', statusSince: '2026-03-01' },
];
const CHUNK = 2_000;

/**
 * Publishes the backlog as the publisher does, with its own functions (the decision rules, the record, the
 * signature, the digest), and writes the rows in bulk, in commit order: through the register import the
 * same backlog takes minutes of CPU that this test is not about.
 */
export async function publishBacklog(store: Store, signer: Signer, operators: number): Promise<void> {
  const entries = new Map<string, HomeOperator>();
  const now = new Date();
  const today = now.toISOString().slice(0, 10);
  for (const kind of ROUNDS) {
    for (let from = 0; from < operators; from += CHUNK) {
      const rows: Record<string, unknown>[] = [];
      for (let i = from; i < Math.min(operators, from + CHUNK); i += 1) {
        const aeoId = aeoIdOf(i);
        const current = entries.get(aeoId);
        const input: DecisionInput = {
          decisionId: crypto.randomUUID(),
          aeoId,
          ...kind,
          ...(current === undefined
            ? {
                operator: {
                  identifiers: [{ scheme: 'TIN', value: `${aeoId}T` }],
                  name: `Operator ${aeoId}`,
                  address: { street: 'Av. Argentina 123', city: 'Callao', country: 'PE' },
                  roles: ['exporter'],
                },
              }
            : {}),
        };
        const applied = applyDecision(current, input, today);
        const version = (current?.version ?? 0) + 1;
        const record = recordOf(applied.entry, applied.publishedStatus, {
          recordId: crypto.randomUUID(),
          issuer: 'PE',
          issuedAt: now.toISOString(),
          version,
          today,
        });
        const jws = await signRecord(record, signer);
        entries.set(aeoId, { ...applied.entry, version });
        rows.push({
          record_id: record.recordId,
          aeo_id: aeoId,
          version,
          status: record.status,
          programme: record.programme,
          roles: record.operator.roles,
          jws,
          digest: recordDigest(jws),
        });
      }
      await store.query(
        `WITH r AS (
           INSERT INTO home_record (record_id, aeo_id, version, status, programme, roles, jws, digest, created_at)
           SELECT (v->>'record_id')::uuid, v->>'aeo_id', (v->>'version')::bigint, v->>'status', v->>'programme',
                  ARRAY(SELECT jsonb_array_elements_text(v->'roles')), v->>'jws', v->>'digest', now()
             FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(v, n)
            ORDER BY x.n
           RETURNING seq)
         INSERT INTO outbox (partner, record_seq, created_at) SELECT 'CL', seq, now() FROM r ORDER BY seq`,
        [JSON.stringify(rows)],
      );
    }
  }
}
