/**
 * Single decisions from the API sent at the same time are committed in groups (src/publishing/group-commit.ts):
 * each caller gets its own answer, a decision the rules refuse fails its caller only, each decision is chained
 * with its own caller, and concurrent callers do not each hold a database connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import type { DecisionInput } from '../../src/publishing/decision.ts';
import { createGroupCommit } from '../../src/publishing/group-commit.ts';
import { createPublisher, type Publisher } from '../../src/publishing/publish.ts';
import type { Store } from '../../src/store/types.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { openTestStore } from '../support/gateway.ts';
import { certifyBody, freshAeoId, operatorDetails } from '../support/publishing.ts';

let admins: TestAdmins;
let store: Store;
let dispose: () => Promise<void>;
let publisher: Publisher;
let commits = 0;
beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL']);
  ({ store, dispose } = await openTestStore('postgres'));
  publisher = createPublisher({
    config: admins.get('PE').config,
    store,
    onPublished: () => {
      commits += 1;
    },
  });
});
afterAll(async () => {
  await dispose?.();
  admins.cleanup();
});

const decision = (body: Record<string, unknown>): DecisionInput =>
  ({ decisionId: crypto.randomUUID(), ...body }) as unknown as DecisionInput;

describe('single decisions sent together', () => {
  it('answers each caller, refuses only the refused one, and chains each with its own caller', async () => {
    const ids = Array.from({ length: 40 }, () => freshAeoId());
    const unknown = freshAeoId();
    const before = commits;
    const calls = ids.map((aeoId, i) =>
      publisher.decide(
        decision(certifyBody(aeoId, { operator: operatorDetails(aeoId, ['exporter']) })),
        `client-${i % 2}`,
      ),
    );
    // Suspending an operator the register does not hold is refused by the rules.
    const refused = publisher
      .decide(decision({ aeoId: unknown, decision: 'suspend', statusSince: '2026-01-02' }), 'client-x')
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    const results = await Promise.all(calls);
    expect(results.map((r) => r.aeoId)).toEqual(ids);
    expect(results.every((r) => r.record?.version === 1 && !r.replayed)).toBe(true);
    const error = await refused;
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).status).toBeLessThan(500);
    // Fewer commits than decisions: they were grouped.
    expect(commits - before).toBeLessThan(ids.length);
    const audit = await store.query<{ actor: string; aeo: string }>(
      `SELECT actor, detail->>'aeoId' AS aeo FROM audit_log WHERE kind = 'admin-action'
        AND detail->>'aeoId' = ANY($1::text[])`,
      [[...ids, unknown]],
    );
    expect(audit).toHaveLength(ids.length);
    for (const a of audit) expect(a.actor).toBe(`client-${ids.indexOf(a.aeo) % 2}`);
  });

  it('gives a caller the error its own commit met, and the others their results', async () => {
    let n = 0;
    const group = createGroupCommit<number, number>(async (items) => {
      n += 1;
      return items.map((i) =>
        i === 3 ? { ok: false, error: new Error('three') } : { ok: true, value: i * 2 },
      );
    }, 4);
    const settled = await Promise.allSettled([1, 2, 3, 4, 5, 6].map((i) => group(i)));
    expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message))).toEqual([
      2,
      4,
      'three',
      8,
      10,
      12,
    ]);
    // The first alone (nothing was running), then the next four, then the last: never more than 4 at once.
    expect(n).toBe(3);
  });
});
