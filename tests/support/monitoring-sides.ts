/**
 * Each side of the scripted exchange (tests/integration/monitoring-report.test.ts) as the report and the
 * summaries must show it: the model's values from the script (tests/support/monitoring-script.ts), and for
 * times what the other side signed or windows taken around the acts that set them.
 */

import type { Receipt } from '../../src/protocol/receipt.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import type { Exchange } from './delivery.ts';
import {
  ALL_PROGRAMMES,
  benefitIdsOf,
  CL_OPS,
  CL_PROGRAMMES,
  type Home,
  heldBy,
  PE_AMENDED,
  PE_FAULT,
  PE_OPS,
  scopeOf,
} from './monitoring-cases.ts';
import {
  borderTimes,
  issuedAtOfPublished,
  lastAt,
  receiptsSignedBy,
  receiptTimes,
} from './monitoring-exchange.ts';
import type { Side, Window } from './monitoring-expect.ts';
import { type FeedbackLine, recordsOf, tallyOutcomes } from './monitoring-script.ts';
import { expectedTerms } from './monitoring-terms.ts';
import type { WebhookReceiver } from './webhook-receiver.ts';

/** What the script did and when, as the test recorded it. */
export interface ScriptRun {
  ex: Exchange;
  aeo: (key: string) => string;
  receiver: WebhookReceiver;
  crafted: { records: AeoStatusRecord[]; expected: string[] };
  craftedReceipt: Receipt;
  /** The outcome of each counted lookup, by the border that answered it. */
  lookedUp: Record<Home, string[]>;
  feedback: Record<Home, FeedbackLine[]>;
  /** Around each side's pull of the other's feed and its reconciliation with it. */
  fresh: Record<Home, { pulledAt: Window; reconciledAt: Window }>;
  /** Around the first start of both gateways, and PE's restart with the amended MRA. */
  started: Window;
  amended: Window;
  activeDay: string;
}

const partnerOf = (home: Home) => (home === 'PE' ? 'CL' : 'PE');

function mraOf(run: ScriptRun, home: Home) {
  const mra = run.ex.admins.get(home).config.partners.find((p) => p.adminId === partnerOf(home))?.mra;
  if (mra === undefined) throw new Error(`${home} has no MRA with ${partnerOf(home)}`);
  return mra;
}

export const scopeAt = (run: ScriptRun, home: Home) => scopeOf(home, run.ex.admins.get(home).config);
export const heldAt = (run: ScriptRun, home: Home) => heldBy(home, run.aeo, run.crafted.records[0]);

/** What `home`'s report about the other side (and its summary) must show, the report read at `reportedAt`. */
export async function sideOf(run: ScriptRun, home: Home, reportedAt: number): Promise<Side> {
  const { ex, aeo, crafted } = run;
  const partner = partnerOf(home);
  const mra = mraOf(run, home);
  const signedByHome = await receiptsSignedBy(ex.store(partner), home);
  const issuedByPartner = await issuedAtOfPublished(ex.store(partner));
  const outboundMs = receiptTimes(
    await receiptsSignedBy(ex.store(home), partner),
    await issuedAtOfPublished(ex.store(home)),
    reportedAt,
  ).bounds;
  const common = {
    home,
    partner,
    mraId: mra.id,
    activeDay: run.activeDay,
    ...run.fresh[home],
    homeScope: scopeAt(run, home),
    held: heldAt(run, home),
    lookups: run.lookedUp[home],
    feedback: run.feedback[home],
    benefitIds: benefitIdsOf(ex.admins.get(home).config),
    outboundMs,
  };
  if (home === 'PE') {
    const signed = [...signedByHome, run.craftedReceipt];
    for (const z of crafted.records) issuedByPartner.set(z.recordId, Date.parse(z.issuedAt));
    const clRecords = CL_OPS.flatMap((o) => recordsOf(o).map((v) => ({ ...v, aeoId: aeo(o.key) })));
    const z = crafted.records[0];
    return {
      ...common,
      homeOps: [...PE_OPS, PE_FAULT],
      partnerProgrammes: new Set(CL_PROGRAMMES),
      retried: recordsOf(PE_FAULT).length,
      accepted: [
        ...clRecords,
        { aeoId: z?.operator.aeoId ?? '', version: z?.version ?? 0, status: 'certified' },
      ],
      records: tallyOutcomes(clRecords.length, crafted.expected),
      recordsReceived: clRecords.length + crafted.expected.length,
      toReceiptMs: receiptTimes(signed, issuedByPartner).exact,
      toBorderMs: borderTimes(run.receiver.on('/pe'), issuedByPartner, reportedAt),
      lastReceiptAt: lastAt(signed),
      terms: [
        { terms: expectedTerms(mra, ALL_PROGRAMMES), since: run.started },
        { terms: expectedTerms(mra, PE_AMENDED), since: run.amended },
      ],
    };
  }
  const peRecords = [...PE_OPS, PE_FAULT].flatMap((o) =>
    recordsOf(o).map((v) => ({ ...v, aeoId: aeo(o.key), programme: o.programme })),
  );
  const inScope = peRecords.filter((v) => (CL_PROGRAMMES as readonly string[]).includes(v.programme));
  const outOfScope = peRecords.length - inScope.length;
  return {
    ...common,
    homeOps: CL_OPS,
    // Every CL record reached PE before PE's amendment.
    partnerProgrammes: new Set(ALL_PROGRAMMES),
    retried: 0,
    accepted: inScope,
    records: {
      accepted: inScope.length,
      duplicate: 0,
      superseded: 0,
      rejected: outOfScope === 0 ? {} : { OUT_OF_SCOPE: outOfScope },
    },
    recordsReceived: peRecords.length,
    toReceiptMs: receiptTimes(signedByHome, issuedByPartner).exact,
    toBorderMs: undefined,
    lastReceiptAt: lastAt(signedByHome),
    terms: [{ terms: expectedTerms(mra), since: run.started }],
  };
}
