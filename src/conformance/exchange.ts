/**
 * Duplicates and versions (docs/protocol.md, Receiving records): the same batch twice, a re-signed record, a
 * record twice in one batch; versions forward, the same again, lower, the same version or recordId with
 * another payload. Then the kit withdraws every operator it got accepted, so the target's current state holds
 * none of them as certified.
 */
import type { AeoStatusRecord } from '../protocol/record.ts';
import { nextVersion, signed, testRecord } from './forge.ts';
import { type Batch, outcomeText, resultProblem, sendBatch } from './send.ts';
import { Results, type Section } from './types.ts';

/** Why the batch did not get `expected` outcomes, one per record, or undefined. */
function outcomesProblem(
  batch: Batch,
  sent: readonly string[],
  expected: readonly string[],
): string | undefined {
  if (!batch.ok) return batch.got;
  if (batch.receiptProblem !== undefined) return `receipt does not prove delivery: ${batch.receiptProblem}`;
  for (const [i, e] of expected.entries()) {
    const p = resultProblem(batch, sent, i, e);
    if (p !== undefined) return `index ${i}: ${p}; all: ${batch.receipt.results.map(outcomeText).join(', ')}`;
  }
  return undefined;
}

export const duplicatesSection: Section = {
  name: 'duplicates',
  about: 'the same batch twice, a re-signed record, a record twice in a batch: duplicate outcomes',
  async run(kit) {
    const out = new Results('duplicates');
    const records = [testRecord(kit), testRecord(kit)];
    const batch = await Promise.all(records.map((r) => signed(kit, r)));
    const first = await sendBatch(kit, batch);
    out.judge(
      'first',
      'POST /records: two new operators',
      'accepted, accepted',
      outcomesProblem(first, batch, ['accepted', 'accepted']),
    );
    const again = await sendBatch(kit, batch);
    out.judge(
      'same-batch-again',
      'POST /records: the same two records, the same bytes',
      'duplicate, duplicate',
      outcomesProblem(again, batch, ['duplicate', 'duplicate']),
    );
    const consistent =
      first.ok && again.ok
        ? (first.receiptProblem ?? again.receiptProblem) !== undefined
          ? `a receipt does not prove delivery: ${first.receiptProblem ?? again.receiptProblem}`
          : first.receipt.receiptId === again.receipt.receiptId
            ? 'both receipts have the same receiptId'
            : first.receipt.results.some((r, i) => r.recordId !== again.receipt.results[i]?.recordId)
              ? 'the recordIds of the two receipts differ'
              : undefined
        : 'no two receipts to compare';
    out.judge(
      'receipts-consistent',
      'the two receipts above',
      'a fresh receiptId, the same digests and recordIds',
      consistent,
    );
    const resigned = await signed(kit, records[0]!);
    const re = await sendBatch(kit, [resigned]);
    out.judge(
      're-signed',
      'POST /records: the first record signed again (new signature bytes where the algorithm allows)',
      'duplicate',
      outcomesProblem(re, [resigned], ['duplicate']),
    );
    const twice = await signed(kit, testRecord(kit));
    const inBatch = await sendBatch(kit, [twice, twice]);
    out.judge(
      'twice-in-batch',
      'POST /records: one new record twice in one batch',
      'accepted, duplicate',
      outcomesProblem(inBatch, [twice, twice], ['accepted', 'duplicate']),
    );
    return out.list;
  },
};

export const versionsSection: Section = {
  name: 'versions',
  about: 'version n+1 accepted, the same again duplicate, lower superseded, conflicts rejected',
  async run(kit) {
    const out = new Results('versions');
    const v1 = testRecord(kit);
    const step = async (name: string, sent: string, record: AeoStatusRecord, expected: string) => {
      const jws = await signed(kit, record);
      out.judge(
        name,
        `POST /records: ${sent}`,
        expected,
        outcomesProblem(await sendBatch(kit, [jws]), [jws], [expected]),
      );
      return jws;
    };
    await step('first', `${v1.operator.aeoId} version 1`, v1, 'accepted');
    const v3 = nextVersion(v1, 3);
    const v3jws = await step('forward', 'version 3 of the same operator, a new recordId', v3, 'accepted');
    const again = await sendBatch(kit, [v3jws]);
    out.judge(
      'same-again',
      'POST /records: version 3 again, the same bytes',
      'duplicate',
      outcomesProblem(again, [v3jws], ['duplicate']),
    );
    await step('lower', 'version 2, a new recordId, after version 3', nextVersion(v1, 2), 'superseded');
    await step(
      'same-version-other-id',
      'version 3 again under another recordId',
      nextVersion(v1, 3),
      'rejected VERSION_CONFLICT',
    );
    await step(
      'same-id-other-payload',
      "version 3's recordId with another name",
      {
        ...v3,
        operator: { ...v3.operator, name: `${v3.operator.name} (changed)` },
      },
      'rejected RECORD_ID_CONFLICT',
    );
    return out.list;
  },
};

export const cleanupSection: Section = {
  name: 'cleanup',
  about: 'every operator the kit got accepted is withdrawn again',
  async run(kit) {
    const out = new Results('cleanup');
    const held = [...kit.held.values()];
    const sent = `POST /records: ${held.length} kit operator(s) withdrawn, each one version up`;
    if (held.length === 0) {
      out.add(
        'withdrawn',
        'SKIP',
        sent,
        'accepted for each',
        'the target accepted no kit operator in this run',
      );
      return out.list;
    }
    const today = new Date().toISOString().slice(0, 10);
    const records = held.map((r) =>
      nextVersion(r, r.version + 1, { status: 'withdrawn', statusSince: today }),
    );
    const jws = await Promise.all(records.map((r) => signed(kit, r)));
    const batch = await sendBatch(kit, jws);
    out.judge(
      'withdrawn',
      sent,
      'accepted for each',
      outcomesProblem(
        batch,
        jws,
        jws.map(() => 'accepted'),
      ),
    );
    return out.list;
  },
};
