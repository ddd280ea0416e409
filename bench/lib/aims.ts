/**
 * The speed aims of PRODUCT.md ("Speed"), in one place: every benchmark and bench:quick print a figure beside
 * its aim from here, so an aim changed here changes everywhere it is judged.
 *
 * A ratio is taken against a baseline measured in the same run on the same machine (raw ES256 verification or
 * signing on all cores, a bare fastify route); a time or a size is absolute.
 */

/** `atLeast`: the figure meets the aim when it is ≥ the bound; `below`: when it is < the bound. */
export type AimKind = 'atLeast' | 'below';

export interface Aim {
  readonly kind: AimKind;
  readonly bound: number;
  /** The unit of the figure and the bound ('' for a ratio). */
  readonly unit: string;
  /** What is measured, in a few words. */
  readonly what: string;
}

const aim = (kind: AimKind, bound: number, unit: string, what: string): Aim => ({ kind, bound, unit, what });

export const AIMS = {
  /** Durable inbound records/s over the raw all-core ES256 verification rate. */
  inboundRatio: aim('atLeast', 0.333, '', 'inbound records/s ÷ raw ES256 verify/s'),
  /** The same per CPU second with PostgreSQL's CPU left out (as if it ran on another machine). */
  inboundRatioWithoutDatabase: aim(
    'atLeast',
    0.6,
    '',
    'inbound per cpu s, database cpu left out ÷ raw verify per cpu s',
  ),
  /** Single border lookups/s over a bare fastify hello-world route's requests/s under the same load. */
  lookupRatio: aim('atLeast', 0.8, '', 'single lookups/s ÷ bare fastify hello req/s'),
  lookupP99Ms: aim('below', 5, 'ms', 'single lookup p99'),
  /** A 3,000-item manifest in the compact form, to the last byte. */
  manifestP99Ms: aim('below', 10, 'ms', '3,000-item manifest p99 (compact form)'),
  /**
   * A decision at one gateway applied at the partner and its webhook at the partner's border system, at 100
   * decisions a second (worse partner): bench/propagation.ts measures from the publish call to the
   * notification's arrival at a border webhook receiver subscribed at each partner, as PRODUCT.md counts.
   */
  propagationP99Ms: aim('below', 250, 'ms', "decision to the partner's border webhook, p99 at 100/s"),
  /** Register bulk import: records signed, stored with their outbox rows, committed, over raw ES256 signing. */
  publishingRatio: aim('atLeast', 0.333, '', 'bulk import records/s ÷ raw ES256 sign/s'),
  /** A gateway with 1,000,000 foreign operators ready (measured, or extrapolated from a smaller run). */
  startSeconds: aim('below', 15, 's', 'ready with 1,000,000 foreign operators'),
  /** The read model's memory with 1,000,000 foreign operators (RSS over an empty gateway). */
  readModelMiB: aim('below', 1024, 'MiB', 'read model memory with 1,000,000 foreign operators'),
} as const satisfies Record<string, Aim>;

export type AimName = keyof typeof AIMS;

/** The rate at which the propagation aim holds, decisions a second. */
export const PROPAGATION_AIM_RATE = 100;

/** Whether a figure meets its aim; undefined when there is no figure (NaN: not measured). */
export function meets(a: Aim, figure: number): boolean | undefined {
  if (Number.isNaN(figure)) return undefined;
  return a.kind === 'atLeast' ? figure >= a.bound : figure < a.bound;
}

/** The aim as printed: "≥ 0.333", "< 250 ms". */
export function showAim(a: Aim): string {
  return `${a.kind === 'atLeast' ? '≥' : '<'} ${a.bound}${a.unit === '' ? '' : ` ${a.unit}`}`;
}

/** "met", "not met" or "n/a" (no figure). */
export function verdict(a: Aim, figure: number): string {
  const m = meets(a, figure);
  return m === undefined ? 'n/a' : m ? 'met' : 'not met';
}

/** The aim and its verdict for a figure, printed beside it: "(aim ≥ 0.333: not met)". */
export function besideAim(a: Aim, figure: number): string {
  return `(aim ${showAim(a)}: ${verdict(a, figure)})`;
}
