/**
 * Receipts (docs/protocol.md, Receipts): signed by the target with a key it publishes, chaining to its anchors,
 * naming both parties, one result per record with its digest, the recordId of what verified, and a code and a
 * detail for what was rejected; checked with the sending gateway's own receipt check.
 */
import { flipSignature, forge, header, signed, testRecord } from './forge.ts';
import { outcomeText, sendBatch } from './send.ts';
import { real, TYP } from './strictness.ts';
import { publishedKids } from './transport.ts';
import { Results, type Section } from './types.ts';

export const receiptsSection: Section = {
  name: 'receipts',
  about: 'signed by the target under its anchors with a published key, one result per record',
  async run(kit) {
    const out = new Results('receipts');
    const records = [
      await signed(kit, testRecord(kit)),
      forge({
        header: header(kit.signer, TYP),
        payload: testRecord(kit),
        signAs: real(kit),
        after: flipSignature,
      }),
    ];
    const sentText = 'POST /records: a valid record and one with a bad signature';
    const batch = await sendBatch(kit, records);
    if (!batch.ok) {
      for (const name of ['verifies', 'parties', 'results', 'key-published']) {
        out.add(name, 'FAIL', sentText, 'a receipt', batch.got);
      }
      return out.list;
    }
    out.judge(
      'verifies',
      sentText,
      'signature and chain verify under the target anchors; index and digest per record',
      batch.receiptProblem,
    );
    const r = batch.receipt;
    const unproven = batch.receiptProblem === undefined ? undefined : 'the receipt does not verify (above)';
    out.judge(
      'parties',
      sentText,
      `sender ${kit.home}, receiver ${kit.target.adminId}, a receiptId, receivedAt`,
      unproven ??
        (r.sender === kit.home &&
        r.receiver === kit.target.adminId &&
        typeof r.receiptId === 'string' &&
        typeof r.receivedAt === 'string'
          ? undefined
          : `sender ${String(r.sender)}, receiver ${String(r.receiver)}`),
    );
    const [first, second] = r.results;
    const recordId = JSON.parse(Buffer.from(records[0]!.split('.')[1]!, 'base64url').toString()).recordId;
    out.judge(
      'results',
      sentText,
      'accepted with its recordId; rejected SIGNATURE_INVALID with a detail',
      first?.outcome === 'accepted' &&
        first.recordId === recordId &&
        second?.outcome === 'rejected' &&
        second.code === 'SIGNATURE_INVALID' &&
        typeof second.detail === 'string'
        ? undefined
        : `${outcomeText(first)} (recordId ${String(first?.recordId)}), ${outcomeText(second)}`,
    );
    let kids: Set<string> = new Set();
    try {
      kids = publishedKids((await kit.wire.send({ method: 'GET', path: '/.well-known/mra-gateway' })).json);
    } catch {
      // An unreachable description leaves no key published: the check below says so.
    }
    const kid = (
      JSON.parse(Buffer.from(batch.receiptJws.split('.')[0]!, 'base64url').toString()) as { kid?: unknown }
    ).kid;
    out.judge(
      'key-published',
      `${sentText}; GET /.well-known/mra-gateway`,
      "the receipt's kid among the published keys",
      kids.has(String(kid)) ? undefined : `kid ${String(kid)} not published (${kids.size} keys)`,
    );
    return out.list;
  },
};
