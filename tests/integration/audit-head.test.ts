/**
 * An append to the audit chain takes the chain's lock and reads the head it links to in one call (migration 018,
 * `audit_head`). The head must be read after the lock is granted: an append that waited behind another must link
 * to the entry the other committed, never to the head as it was when its statement began.
 */
import { describe, expect, it } from 'vitest';
import { type AuditEntry, appendAudit } from '../../src/audit/chain.ts';
import { verifyChain } from '../../src/audit/verify-chain.ts';
import { postgresStoreOfFile } from '../support/both-stores.ts';
import { waitFor } from '../support/delivery.ts';

const storeOfFile = postgresStoreOfFile();

const entry = (subject: string): AuditEntry => ({
  kind: 'admin-action',
  actor: 'audit-head-test',
  subject,
  digest: 'AAAA',
});

/** Sessions waiting for an advisory lock. */
const waiting = async () =>
  Number(
    (
      await storeOfFile().query<{ n: string }>(
        "SELECT count(*)::text AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
      )
    )[0]?.n,
  );

describe('an append that waited for the audit lock', () => {
  it('links to the entry committed while it waited', async () => {
    const store = storeOfFile();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let appended = () => {};
    const firstAppended = new Promise<void>((resolve) => {
      appended = resolve;
    });
    const first = store.transaction(async (tx) => {
      await appendAudit(tx, entry('first'));
      appended();
      await held;
    });
    await firstAppended;
    const second = store.transaction((tx) => appendAudit(tx, entry('second')));
    await waitFor('the second append to wait for the lock', async () =>
      (await waiting()) === 1 ? true : undefined,
    );
    release();
    await Promise.all([first, second]);

    const chain = await verifyChain(store);
    expect(chain.broken).toBeUndefined();
    expect(chain.entries).toBe(2);
    const subjects = await store.query<{ subject: string }>('SELECT subject FROM audit_log ORDER BY seq');
    expect(subjects.map((r) => r.subject)).toEqual(['first', 'second']);
  }, 60_000);
});
