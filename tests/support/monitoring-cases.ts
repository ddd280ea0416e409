/**
 * The script of the monitoring report test: each side's operators and their decisions, the MRAs' programmes
 * (CL's with PE narrower; PE's with CL amended during the run), the feedback each border reports, and who each
 * side holds by the end, worked out from the script alone.
 */
import type { GatewayConfig } from '../../src/config/types.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { type FeedbackLine, type HeldOperator, type ScriptOperator, statusOf } from './monitoring-script.ts';

export type Home = 'PE' | 'CL';

export const op = (
  key: string,
  o: Omit<ScriptOperator, 'key' | 'consent'> & { consent?: boolean },
): ScriptOperator => ({
  key,
  consent: true,
  ...o,
});

export const PE_OPS = [
  op('pA', {
    programme: 'AEO-F',
    roles: ['exporter', 'manufacturer'],
    size: 'micro',
    decisions: ['certify'],
  }),
  op('pB', { programme: 'AEO-F', roles: ['importer'], size: 'small', decisions: ['certify', 'suspend'] }),
  op('pC', { programme: 'AEO-C', roles: ['carrier'], size: 'medium', decisions: ['certify', 'revoke'] }),
  op('pD', { programme: 'AEO-F', roles: ['exporter'], size: 'large', decisions: ['certify', 'withdraw'] }),
  op('pE', { programme: 'AEO-F', roles: ['exporter'], size: undefined, decisions: ['certify'] }),
  // CL's MRA with PE does not cover AEO-S: CL rejects it, PE gives it up.
  op('pS', { programme: 'AEO-S', roles: ['exporter'], size: 'large', decisions: ['certify'] }),
  op('pN', {
    programme: 'AEO-F',
    roles: ['exporter'],
    size: 'small',
    consent: false,
    decisions: ['certify'],
  }),
];
/** Published while CL is down. */
export const PE_FAULT = op('pF', {
  programme: 'AEO-F',
  roles: ['exporter'],
  size: 'small',
  decisions: ['certify'],
});
export const CL_OPS = [
  op('cA', { programme: 'AEO-F', roles: ['exporter'], size: 'micro', decisions: ['certify'] }),
  op('cB', {
    programme: 'AEO-F',
    roles: ['exporter', 'importer'],
    size: 'small',
    decisions: ['certify', 'suspend'],
  }),
  op('cC', { programme: 'AEO-C', roles: ['manufacturer'], size: 'medium', decisions: ['certify'] }),
  op('cD', { programme: 'AEO-F', roles: ['exporter'], size: 'large', decisions: ['certify', 'revoke'] }),
  op('cE', { programme: 'AEO-F', roles: ['carrier'], size: undefined, decisions: ['certify', 'withdraw'] }),
  op('cG', { programme: 'AEO-F', roles: ['exporter'], size: 'large', decisions: ['certify'] }),
];
export const ALL_PROGRAMMES = ['AEO-S', 'AEO-C', 'AEO-F'] as const;
/** CL's MRA with PE; PE's with CL, first as configured, then as amended. */
export const CL_PROGRAMMES: ['AEO-F', 'AEO-C'] = ['AEO-F', 'AEO-C'];
export const PE_AMENDED: ['AEO-F', 'AEO-S'] = ['AEO-F', 'AEO-S'];

/** Feedback each border reports: operator, benefit, applied, reason (`z`: the crafted operator). */
export const FEEDBACK = {
  PE: [
    ['cA', 'fewer-checks', true],
    ['cG', 'fewer-checks', true],
    ['z', 'fewer-checks', true],
    ['cB', 'fewer-checks', false, 'operator-suspended'],
    ['cC', 'fewer-checks', false, 'Scope: AEO-C'],
    ['cA', 'priority', true],
    ['cG', 'priority', false],
    ['cE', 'priority', false, 'withdrawn'],
  ],
  CL: [
    ['pA', 'fewer-checks', true],
    ['pE', 'fewer-checks', true],
    ['pB', 'fewer-checks', false, 'suspended'],
    ['pF', 'priority', true],
    ['pD', 'priority', false, 'Withdrawn!!'],
  ],
} as const;

/** The programmes and roles of `home`'s MRA with the other side, at the end of the run. */
export function scopeOf(home: Home, config: GatewayConfig) {
  const partner = home === 'PE' ? 'CL' : 'PE';
  return {
    programmes: new Set<string>(home === 'PE' ? PE_AMENDED : CL_PROGRAMMES),
    roles: new Set<string>(config.partners.find((p) => p.adminId === partner)?.mra.roles ?? []),
  };
}

/** The other side's operators as `home` holds them; at PE also the operator of the crafted batch. */
export function heldBy(
  home: Home,
  aeo: (key: string) => string,
  crafted: AeoStatusRecord | undefined,
): HeldOperator[] {
  const heldOf = (o: ScriptOperator): HeldOperator => ({
    aeoId: aeo(o.key),
    programme: o.programme,
    roles: o.roles,
    size: o.size,
    status: statusOf(o),
  });
  if (home === 'CL') {
    return [...PE_OPS, PE_FAULT]
      .filter((o) => o.consent && (CL_PROGRAMMES as readonly string[]).includes(o.programme))
      .map(heldOf);
  }
  if (crafted === undefined) throw new Error('no crafted record');
  const { aeoId, roles, enterpriseSize } = crafted.operator;
  return [
    ...CL_OPS.map(heldOf),
    { aeoId, programme: crafted.programme, roles, size: enterpriseSize, status: crafted.status },
  ];
}

/** The benefits of `home`'s MRA with the other side, as configured. */
export function benefitIdsOf(config: GatewayConfig): string[] {
  return config.partners[0]?.mra.benefits.map((b) => b.id) ?? [];
}

/** `home`'s feedback as the model sees it and as the border system posts it. */
export function feedbackOf(
  home: Home,
  held: readonly HeldOperator[],
  aeo: (key: string) => string,
  at: string,
) {
  const lines: FeedbackLine[] = [];
  const items = FEEDBACK[home].map(([key, benefit, applied, reason], i) => {
    const h = key === 'z' ? held.at(-1) : held.find((x) => x.aeoId === aeo(key));
    if (h === undefined) throw new Error(`no held operator ${key}`);
    lines.push({ aeoId: h.aeoId, size: h.size, benefit, applied, ...(reason ? { reason } : {}) });
    const issuer = home === 'PE' ? 'CL' : 'PE';
    return {
      issuer,
      aeoId: h.aeoId,
      benefit,
      applied,
      consignmentRef: `CONS-${home}-${i}`,
      at,
      ...(reason ? { reason } : {}),
    };
  });
  return { lines, items };
}
