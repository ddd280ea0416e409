/**
 * The lookup answer and the webhook events judge recognition by one rule (src/mra/recognition.ts). Over random
 * operator histories (versions, statuses, dates, roles, programmes, arrival order) and random MRA terms, the
 * real inbound verdicts, read model, answer writer and notification events are run, and what a border system
 * would be told by each is compared at every instant where something changes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../src/cli/samples.ts';
import type { GatewayConfig } from '../../src/config/types.ts';
import { changeOf } from '../../src/inbound/change.ts';
import type { Candidate } from '../../src/inbound/judge.ts';
import { judgeAgainstHeld } from '../../src/inbound/verdict.ts';
import { createAnswerer, type LookupAnswer } from '../../src/lookup/answer.ts';
import { ReadModel } from '../../src/lookup/read-model.ts';
import { recognitionOf } from '../../src/mra/recognition.ts';
import type { Mra, Partner } from '../../src/mra/types.ts';
import { inboundEvents, type NotificationEvent } from '../../src/notifications/record.ts';
import type { AeoStatus, Programme, Role } from '../../src/protocol/record.ts';
import type { Sql } from '../../src/store/types.ts';

const DAY = 86_400_000;
const BASE = Date.parse('2026-01-01T00:00:00Z');
const ISSUER = 'CL';
const AEO_IDS = ['CLAEO00000001', 'CLAEO00000002'];
const STATUSES: AeoStatus[] = ['certified', 'certified', 'suspended', 'revoked', 'withdrawn'];
const PROGRAMMES: Programme[] = ['AEO-S', 'AEO-C', 'AEO-F'];
// A few roles, so that scopes and benefits overlap often.
const ROLES: Role[] = ['manufacturer', 'exporter', 'importer', 'carrier'];

const dayOf = (ms: number) => new Date(Math.floor(ms / DAY) * DAY).toISOString().slice(0, 10);

interface Version {
  operator: number;
  version: number;
  status: AeoStatus;
  /** Days from the batch's receipt day: negative back-dated, positive announced ahead. */
  sinceOffset: number;
  programme: Programme;
  roles: Role[];
}

interface Batch {
  /** Ms after the previous batch. */
  gap: number;
  versions: Version[];
}

const roles = fc.subarray(ROLES, { minLength: 1 });
const version = (ahead: number) =>
  fc.record({
    operator: fc.integer({ min: 0, max: AEO_IDS.length - 1 }),
    version: fc.integer({ min: 1, max: 8 }),
    status: fc.constantFrom(...STATUSES),
    sinceOffset: fc.integer({ min: -5, max: ahead }),
    programme: fc.constantFrom(...PROGRAMMES),
    roles,
  });
const history = (ahead: number) =>
  fc.array(
    fc.record({
      gap: fc.integer({ min: 1, max: 4 * DAY }),
      versions: fc.array(version(ahead), { minLength: 1, maxLength: 3 }),
    }),
    { minLength: 1, maxLength: 7 },
  );

/** MRA terms; `window` gives inForceFrom/inForceUntil in days from BASE (until: undefined, open-ended). */
const mraTerms = (window: fc.Arbitrary<[number, number | undefined]>) =>
  fc.record({
    present: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
    status: fc.constantFrom<Mra['status'][]>('in-force', 'in-force', 'in-force', 'suspended', 'terminated'),
    window,
    programmes: fc.subarray(PROGRAMMES, { minLength: 1 }),
    roles,
    benefits: fc.array(fc.option(roles, { nil: undefined }), { maxLength: 3 }),
  });
interface Terms {
  present: boolean;
  status: Mra['status'];
  window: [number, number | undefined];
  programmes: Programme[];
  roles: Role[];
  benefits: (Role[] | undefined)[];
}

function partnersOf(t: Terms): Partner[] {
  if (!t.present) return [];
  const [from, until] = t.window;
  const mra: Mra = {
    id: 'CL-PE',
    status: t.status,
    inForceFrom: new Date(BASE + from * DAY),
    inForceUntil: until === undefined ? undefined : new Date(BASE + until * DAY),
    programmes: new Set(t.programmes),
    roles: new Set(t.roles),
    benefits: t.benefits.map((r, i) => ({ id: `b${i}`, description: `benefit ${i}`, roles: r })),
  };
  return [{ adminId: ISSUER, mra } as unknown as Partner];
}

interface Accepted {
  operator: number;
  version: number;
  status: AeoStatus;
  statusSince: string;
  programme: Programme;
  roles: Role[];
  from: number;
}

interface Run {
  answer(operator: number, at: number): LookupAnswer;
  events: { operator: number; due: number; event: NotificationEvent }[];
  accepted: Accepted[];
  instants: number[];
  mra: Mra | undefined;
}

/** Runs the batches through the real verdicts, read model, answer writer and notification events. */
async function run(batches: Batch[], terms: Terms): Promise<Run> {
  const partners = partnersOf(terms);
  const config = { partners } as unknown as GatewayConfig;
  const model = new ReadModel();
  const held = { payloadByRecordId: new Map(), currentVersion: new Map(), recordIdByVersion: new Map() };
  // operator_state: the latest accepted version of each operator, which the events are judged against.
  const state = new Map<string, Accepted>();
  const tx: Sql = {
    query: async <R>(_text: string, params?: readonly unknown[]) => {
      const keys = JSON.parse(String(params?.[0])) as [string, string][];
      return keys.flatMap(([issuer, aeoId]) => {
        const s = state.get(aeoId);
        return s === undefined
          ? []
          : [
              {
                issuer,
                aeo_id: aeoId,
                version: String(s.version),
                status: s.status,
                status_since: s.statusSince,
                programme: s.programme,
                roles: s.roles,
              },
            ];
      }) as R[];
    },
    exec: async () => {},
  };
  const out: Run = {
    answer: () => ({}) as LookupAnswer,
    events: [],
    accepted: [],
    instants: [],
    mra: partners[0]?.mra,
  };
  let at = BASE;
  for (const b of batches) {
    at += b.gap;
    const judged: Candidate[] = b.versions.map((v, index) => {
      const record = sampleRecord(ISSUER, v.operator + 1, {
        version: v.version,
        status: v.status,
        statusSince: dayOf(at + v.sinceOffset * DAY),
        programme: v.programme,
      });
      record.operator.roles = v.roles;
      return {
        outcome: 'candidate',
        index,
        digest: `d${index}`,
        jws: '',
        record,
        payloadJson: JSON.stringify(record),
        payloadSha256: record.recordId,
        signerFingerprint: '',
      };
    });
    const verdicts = judgeAgainstHeld(judged, held);
    for (const event of await inboundEvents(tx, config, verdicts, new Date(at))) {
      const operator = AEO_IDS.indexOf(event.aeoId ?? '');
      out.events.push({ operator, due: event.deliverAfter?.getTime() ?? at, event });
    }
    const change = changeOf(ISSUER, new Date(at), verdicts);
    for (const c of change.changes) {
      model.apply({ ...c, receivedAt: change.receivedAt });
      const a: Accepted = {
        operator: AEO_IDS.indexOf(c.aeoId),
        version: c.version,
        status: c.status,
        statusSince: c.statusSince,
        programme: c.programme,
        roles: c.roles,
        // Written out here rather than taken from the rule, so that the as-of rule is checked, not assumed.
        from: Math.max(Date.parse(`${c.statusSince}T00:00:00Z`), at),
      };
      out.accepted.push(a);
      state.set(c.aeoId, a);
    }
  }
  const answerer = createAnswerer(model, partners);
  out.answer = (operator, t) => answerer.answer({ issuer: ISSUER, aeoId: AEO_IDS[operator]! }, new Date(t));
  const marks = [BASE, at + 20 * DAY, ...out.accepted.map((a) => a.from), ...out.events.map((e) => e.due)];
  if (out.mra !== undefined) {
    marks.push(out.mra.inForceFrom.getTime());
    if (out.mra.inForceUntil !== undefined) marks.push(out.mra.inForceUntil.getTime());
  }
  out.instants = [...new Set(marks.flatMap((m) => [m - 1, m, m + 1]))].sort((x, y) => x - y);
  return out;
}

const told = (a: LookupAnswer) => ({ recognised: a.recognised, reason: a.reason, benefits: a.benefits });
const toldBy = (e: NotificationEvent) => {
  const p = e.payload as { recognised: boolean; reason?: string; benefits: unknown[] };
  return { recognised: p.recognised, reason: p.reason, benefits: p.benefits };
};

describe('the lookup answer and the notification stream', () => {
  it('judge by the one rule and the one as-of rule, at every instant and every event', async () => {
    const window = fc
      .tuple(
        fc.integer({ min: -10, max: 40 }),
        fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
      )
      .map(([from, length]): [number, number | undefined] => [
        from,
        length === undefined ? undefined : from + length,
      ]);
    await fc.assert(
      fc.asyncProperty(history(5), mraTerms(window), async (batches, terms) => {
        const r = await run(batches, terms);
        for (let operator = 0; operator < AEO_IDS.length; operator += 1) {
          const mine = r.accepted.filter((a) => a.operator === operator);
          for (const t of r.instants) {
            // The as-of rule: the highest accepted version whose effectiveFrom is not after t.
            const inEffect = mine.filter((a) => a.from <= t).sort((x, y) => y.version - x.version)[0];
            const answer = r.answer(operator, t);
            expect(answer.operator?.version).toBe(inEffect?.version);
            const rule = recognitionOf(r.mra, inEffect, new Date(t));
            expect(told(answer)).toEqual(
              rule.recognised
                ? { recognised: true, reason: undefined, benefits: rule.benefits }
                : { recognised: false, reason: rule.reason, benefits: [] },
            );
          }
        }
        // Each event says what the lookup answers for its version from the instant it is due.
        for (const { operator, due, event } of r.events) {
          const answer = r.answer(operator, due);
          if (answer.operator?.version === event.version) expect(told(answer)).toEqual(toldBy(event));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('tell a border system the same recognition at every instant', async () => {
    // Versions take effect on receipt and the MRA's in-force dates do not fall inside the history. Outside
    // that, the stream lags the answer by design until the next event (docs/notifications.md, "Not covered
    // yet"): an MRA entering or leaving force by date notifies nothing per operator; a version is judged
    // against the latest accepted one even when that one is held for a later day; and of a batch only each
    // operator's highest version is judged, so a lower one that takes effect first is not heard of.
    const window = fc.constantFrom<[number, number | undefined]>(
      [-100, undefined],
      [-100, 400],
      [200, undefined],
    );
    await fc.assert(
      fc.asyncProperty(history(0), mraTerms(window), async (batches, terms) => {
        const r = await run(batches, terms);
        for (let operator = 0; operator < AEO_IDS.length; operator += 1) {
          for (const t of r.instants.filter((i) => i < BASE + 100 * DAY)) {
            // A consumer applies each event it receives whose version is above the last one it applied.
            const applied = r.events
              .filter((e) => e.operator === operator && e.due <= t)
              .sort((x, y) => y.event.version! - x.event.version!)[0];
            const answer = r.answer(operator, t);
            const stream =
              applied === undefined ? { recognised: false, benefits: [] } : toldBy(applied.event);
            expect(answer.recognised).toBe(stream.recognised);
            expect(answer.benefits).toEqual(stream.benefits);
            if (applied !== undefined && answer.operator?.version === applied.event.version) {
              expect(answer.reason).toBe(toldBy(applied.event).reason);
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
