/**
 * Monitoring summaries (docs/protocol.md, Monitoring summaries): a valid summary accepted with a receipt that
 * proves delivery, the same again a duplicate, summaries broken one way each rejected with their code, and
 * `GET /monitoring` with a request token. Summaries cover the kit's test period only.
 */

import { verifySignedObject } from '../crypto/verify-signed.ts';
import { MONITORING_SUMMARY_TYP } from '../protocol/monitoring-summary.ts';
import { forge, header, SUMMARY_PROFILE, signSummaryObject, TEST_PERIOD, testSummary } from './forge.ts';
import { get, gotOf, problemOf } from './pull.ts';
import { outcomeText, resultProblem, sendBatch } from './send.ts';
import { type Kit, Results, type Section } from './types.ts';
import { WireFailure } from './wire.ts';

interface BrokenSummary {
  name: string;
  what: string;
  code: string;
  make(kit: Kit): Promise<string> | string;
}

const broken: BrokenSummary[] = [
  {
    name: 'subject-mismatch',
    what: "a summary about the kit's own operators",
    code: 'SUBJECT_MISMATCH',
    make: (k) => signSummaryObject(k, testSummary(k, { subject: k.home })),
  },
  {
    name: 'mra-unknown',
    what: 'an mraId that is not the MRA configured',
    code: 'MRA_UNKNOWN',
    make: (k) => signSummaryObject(k, testSummary(k, { mraId: `${k.target.mra.id}-conformance-unknown` })),
  },
  {
    name: 'reporter-mismatch',
    what: 'a reporter that is not the kit',
    code: 'ISSUER_MISMATCH',
    make: (k) => signSummaryObject(k, testSummary(k, { reporter: k.target.adminId })),
  },
  {
    name: 'schema-invalid',
    what: 'a negative count',
    code: 'SCHEMA_INVALID',
    make: (k) => signSummaryObject(k, testSummary(k, { figures: { records: { accepted: -1 } } })),
  },
  {
    name: 'period-reversed',
    what: 'a period whose from is after its to',
    code: 'SCHEMA_INVALID',
    make: (k) =>
      signSummaryObject(k, testSummary(k, { period: { from: TEST_PERIOD.to, to: TEST_PERIOD.from } })),
  },
  {
    name: 'typ-record',
    what: 'typ aeo-status+jws',
    code: 'HEADER_INVALID',
    make: (k) =>
      forge({
        header: header(k.signer, 'aeo-status+jws'),
        payload: testSummary(k),
        signAs: { alg: k.signer.alg, key: k.signer.key },
      }),
  },
];

export const monitoringSection: Section = {
  name: 'monitoring',
  about: 'POST /monitoring with a valid and broken summaries, GET /monitoring with a request token',
  async run(kit) {
    const out = new Results('monitoring');
    const period = `${TEST_PERIOD.from}..${TEST_PERIOD.to}`;
    const valid = await signSummaryObject(kit, testSummary(kit));
    const first = await sendBatch(kit, [valid], 'summaries');
    out.judge(
      'valid',
      `POST /monitoring: a summary of the test period ${period}`,
      'accepted, in a receipt that proves delivery',
      resultProblem(first, [valid], 0, 'accepted') ?? (first.ok ? first.receiptProblem : undefined),
    );
    const again = await sendBatch(kit, [valid], 'summaries');
    out.judge(
      'duplicate',
      'POST /monitoring: the same summary again',
      'duplicate',
      resultProblem(again, [valid], 0, 'duplicate') ?? (again.ok ? again.receiptProblem : undefined),
    );
    const batch = await Promise.all(broken.map((b) => b.make(kit)));
    const sent = await sendBatch(kit, batch, 'summaries');
    for (const [i, b] of broken.entries()) {
      const expected = `rejected ${b.code}`;
      out.judge(
        b.name,
        `POST /monitoring, ${batch.length} summaries, index ${i}: ${b.what}`,
        expected,
        resultProblem(sent, batch, i, expected),
        expected,
      );
    }
    out.judge(
      'receipt',
      `POST /monitoring, ${batch.length} broken summaries`,
      'a receipt that proves delivery, summaryId never recordId',
      sent.ok ? sent.receiptProblem : sent.got,
      sent.ok ? sent.receipt.results.map(outcomeText).join(', ') : undefined,
    );

    const r = await get(kit, '/monitoring?limit=100', 'token');
    let problem: string | undefined;
    let count = 0;
    if (r instanceof WireFailure || r.status !== 200) problem = gotOf(r);
    else {
      const body = r.json as { summaries?: unknown; next?: unknown } | undefined;
      if (!Array.isArray(body?.summaries) || typeof body.next !== 'string')
        problem = 'not { summaries, next }';
      else {
        count = body.summaries.length;
        for (const [i, s] of (body.summaries as unknown[]).entries()) {
          const v = await verifySignedObject(s, {
            profile: SUMMARY_PROFILE,
            stores: [kit.target.trust],
            at: new Date(),
          });
          const subject = v.ok ? (v.payload as { subject?: unknown; reporter?: unknown }) : undefined;
          if (!v.ok) problem = `summary ${i}: ${v.code}: ${v.detail}`;
          else if (subject?.subject !== kit.home || subject.reporter !== kit.target.adminId) {
            problem = `summary ${i}: reporter ${String(subject?.reporter)}, subject ${String(subject?.subject)}`;
          }
          if (problem !== undefined) break;
        }
      }
    }
    out.judge(
      'get',
      'GET /monitoring?limit=100 with a request token',
      `200 { summaries, next }, each a ${MONITORING_SUMMARY_TYP} of ${kit.target.adminId} about ${kit.home}`,
      problem,
      `${count} summary(ies), each verified`,
    );
    const none = await get(kit, '/monitoring', null);
    out.judge(
      'get-no-token',
      'GET /monitoring without Authorization',
      '401 UNAUTHORIZED problem, WWW-Authenticate: MRA',
      problemOf(none, 401, 'UNAUTHORIZED'),
      gotOf(none),
    );
    const limit = await get(kit, '/monitoring?limit=101', 'token');
    out.judge(
      'get-bad-limit',
      'GET /monitoring?limit=101',
      '400 BAD_REQUEST problem',
      problemOf(limit, 400, 'BAD_REQUEST'),
      gotOf(limit),
    );
    return out.list;
  },
};
