/**
 * Every PostgreSQL advisory lock key of the gateway, in one place, so that two rules never share a key by
 * accident: a shared key makes unrelated work wait on each other (a snapshot write stalling publishing).
 * One-key locks (bigint) and two-key locks (class, id) are separate spaces in PostgreSQL; the keys below are
 * distinct within each space, and tests/unit/locks.test.ts holds that.
 */

/** One-key locks, each taken with pg_advisory_xact_lock or pg_try_advisory_xact_lock. */
export const LOCKS = {
  /** One replica migrates at a time. */
  migration: 7_411_203_991,
  /** Publishing transactions, so that `seq` follows commit order. */
  publish: 7_411_203_992,
  /** Appends to the audit chain (and its baseline). */
  audit: 7_411_203_995,
  /** The evidence summaries of monitoring. */
  evidenceSummary: 7_411_203_997,
  /** The issue summaries of monitoring. */
  issueSummary: 7_411_203_998,
  /** The MRA history of monitoring. */
  mraHistory: 7_411_204_010,
  /** Writing the lookup read model's snapshot: processes stopping together write one. */
  readModelSnapshot: 7_411_204_020,
  /** The notification outbox's relay. */
  notificationRelay: 7_411_606,
} as const;

/** Two-key locks: (class, hashtext(key)). */
export const LOCK_CLASSES = {
  /** The delivery outbox's relay, per partner. */
  deliveryRelay: 7_411,
} as const;
