/**
 * The strict reading of a monitoring summary (src/monitoring/summaries/schema.ts), by property: every summary
 * built by the protocol's rules is accepted, and no mutation of one is — an extra member in any object, null
 * anywhere, a count that is negative, fractional or text, a map key outside its set, a broken period.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RECORD_REJECTION_CODES } from '../../src/errors.ts';
import { checkSummary } from '../../src/monitoring/summaries/schema.ts';
import type { MonitoringSummary } from '../../src/protocol/monitoring-summary.ts';
import { PROGRAMMES, ROLES } from '../../src/protocol/record.ts';

const DAY_MS = 86_400_000;
const MIN_DAY = Date.UTC(1900, 0, 1) / DAY_MS;
// The period (366 days at most) and issuedAt (400 days after it at most) stay within the year 9999.
const MAX_DAY = Date.UTC(9997, 0, 1) / DAY_MS;
const dateOf = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

const count = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const reason = fc.stringMatching(/^[a-z][a-z0-9-]{0,39}$/);
const countsOf = (keys: readonly string[]) =>
  fc.record(Object.fromEntries(keys.map((k) => [k, count])), { requiredKeys: [] });
const reasons = fc.dictionary(reason, count, { maxKeys: 5 });
const split = countsOf(['sme', 'large', 'unknown']);

const figures = fc.record(
  {
    records: fc.record(
      { accepted: count, duplicate: count, superseded: count, rejected: countsOf(RECORD_REJECTION_CODES) },
      { requiredKeys: [] },
    ),
    operators: fc.record(
      {
        recognised: count,
        byProgramme: countsOf(PROGRAMMES),
        byRole: countsOf(ROLES),
        bySize: countsOf(['micro', 'small', 'medium', 'large', 'unknown']),
      },
      { requiredKeys: [] },
    ),
    lookups: fc.record({ total: count, recognised: count, notRecognised: reasons }, { requiredKeys: [] }),
    benefits: fc.uniqueArray(
      fc.record(
        {
          benefitId: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
          applied: split,
          refused: split,
          refusalReasons: reasons,
        },
        { requiredKeys: ['benefitId'] },
      ),
      { maxLength: 4, selector: (b) => b.benefitId },
    ),
    latency: fc.record(
      { toReceiptMs: countsOf(['p50', 'p95', 'p99']), toBorderMs: countsOf(['p50', 'p95', 'p99']) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

const summary: fc.Arbitrary<MonitoringSummary> = fc
  .record({
    summaryId: fc.uuid(),
    reporter: fc.constantFrom('PE', 'CL', 'EU'),
    subject: fc.constantFrom('PE', 'CL', 'BO'),
    mraId: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
    fromDay: fc.integer({ min: MIN_DAY, max: MAX_DAY }),
    length: fc.integer({ min: 1, max: 366 }),
    issuedAfter: fc.integer({ min: 1, max: 400 }),
    msOfDay: fc.integer({ min: 0, max: DAY_MS - 1 }),
    revision: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    figures,
  })
  .map((g) => {
    const toDay = g.fromDay + g.length - 1;
    return {
      schema: 'mra-monitoring/1',
      summaryId: g.summaryId,
      reporter: g.reporter,
      subject: g.subject,
      mraId: g.mraId,
      period: { from: dateOf(g.fromDay), to: dateOf(toDay) },
      issuedAt: new Date((toDay + g.issuedAfter) * DAY_MS + g.msOfDay).toISOString(),
      revision: g.revision,
      figures: g.figures as MonitoringSummary['figures'],
    } satisfies MonitoringSummary;
  });

type Path = (string | number)[];

/** Every path to a value inside `value` (not the root), and whether the value there is a plain object. */
function pathsOf(value: unknown, at: Path = []): { path: Path; object: boolean; number: boolean }[] {
  const here =
    at.length === 0 ? [] : [{ path: at, object: isObject(value), number: typeof value === 'number' }];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => pathsOf(v, [...at, i]))];
  if (isObject(value)) return [...here, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...at, k]))];
  return here;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A deep copy of `value` with `change` applied at `path`. */
function mutate(value: unknown, path: Path, change: (old: unknown) => unknown): unknown {
  if (path.length === 0) return change(value);
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head as string] = mutate(copy[head as string], rest, change);
  return copy;
}

describe('checkSummary', () => {
  it('accepts every summary built by the rules', () => {
    fc.assert(
      fc.property(summary, (s) => {
        expect(checkSummary(s)).toEqual({ ok: true });
      }),
      { numRuns: 300 },
    );
  });

  it('accepts a summary with no figure known: figures empty', () => {
    const [s] = fc.sample(summary, 1);
    expect(checkSummary({ ...s, figures: {} })).toEqual({ ok: true });
  });

  it('never accepts an extra member, in the root or in any object below it', () => {
    fc.assert(
      fc.property(summary, fc.nat(), fc.string({ maxLength: 8 }), (s, pick, suffix) => {
        const objects = [{ path: [] as Path }, ...pathsOf(s).filter((p) => p.object)];
        const { path } = objects[pick % objects.length]!;
        // `Zz…` is neither a member name, a rejection code nor a reason (reasons are lower case).
        const mutated = mutate(s, path, (o) => ({ ...(o as object), [`Zz${suffix}`]: 1 }));
        expect(checkSummary(mutated).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('never accepts null in place of any member: a figure not known is left out', () => {
    fc.assert(
      fc.property(summary, fc.nat(), (s, pick) => {
        const paths = pathsOf(s);
        const { path } = paths[pick % paths.length]!;
        expect(checkSummary(mutate(s, path, () => null)).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('never accepts a count that is negative, fractional or text', () => {
    fc.assert(
      fc.property(
        summary,
        fc.nat(),
        fc.constantFrom(-1, 0.5, '3', Number.MAX_SAFE_INTEGER + 2),
        (s, pick, bad) => {
          const numbers = pathsOf(s).filter((p) => p.number);
          const { path } = numbers[pick % numbers.length]!;
          expect(checkSummary(mutate(s, path, () => bad)).ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never accepts a period that is reversed, too long, or not ended at issuedAt', () => {
    fc.assert(
      fc.property(summary, fc.constantFrom('reverse', 'long', 'open'), (s, how) => {
        const from = Date.parse(`${s.period.from}T00:00:00Z`) / DAY_MS;
        const to = Date.parse(`${s.period.to}T00:00:00Z`) / DAY_MS;
        const issuedDay = Date.parse(s.issuedAt.slice(0, 10)) / DAY_MS;
        const period =
          how === 'reverse'
            ? { from: dateOf(to + 1), to: s.period.to }
            : how === 'long'
              ? { from: dateOf(to - 366), to: s.period.to }
              : { from: s.period.from, to: dateOf(Math.max(from, issuedDay)) };
        expect(checkSummary({ ...s, period }).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('names the member that failed', () => {
    const [s] = fc.sample(summary, 1);
    const result = checkSummary({ ...s, figures: { lookups: { notRecognised: { Suspended: 1 } } } });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.join(' ')).toMatch(/\/figures\/lookups\/notRecognised/);
  });
});
