/**
 * `evidence export` and `evidence verify`: two real gateways (PE and CL) exchange records; the evidence of a
 * record is exported from both sides and that of a receipt, then verified offline with the administrations'
 * anchors alone: 0 with the right anchors, 1 with the wrong ones or with a byte of a JWS, a receipt or an
 * audit entry altered, 2 for a file that is not evidence.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAnchors } from '../../src/cli/evidence.ts';
import { createDevAdministration } from '../../src/crypto/dev-ca.ts';
import { recordDigest } from '../../src/crypto/digest.ts';
import { exportEvidence } from '../../src/evidence/export.ts';
import { type EvidenceDocument, parseEvidence } from '../../src/evidence/format.ts';
import { verifyEvidence } from '../../src/evidence/verify.ts';
import { type AuditExchange, makeAuditExchange } from '../support/audit-exchange.ts';

let ax: AuditExchange;
let dir: string;
let roots: { PE: string; CL: string; XX: string };

beforeAll(async () => {
  ax = await makeAuditExchange();
  dir = mkdtempSync(join(tmpdir(), 'mra-evidence-'));
  createDevAdministration('XX', join(dir, 'XX'), {});
  const certDir = (id: string) => ax.ex.admins.get(id).dev.certDir;
  roots = {
    PE: join(certDir('PE'), 'root.pem'),
    CL: join(certDir('CL'), 'root.pem'),
    XX: join(dir, 'XX', 'root.pem'),
  };
}, 180_000);
afterAll(async () => {
  await ax?.ex.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function gateway(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['src/cli/main.ts', ...args],
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

async function recordIdOf(
  id: string,
  table: 'home_record' | 'inbound_record',
  aeoId: string,
): Promise<string> {
  const [row] = await ax.ex
    .store(id)
    .query<{ record_id: string }>(
      `SELECT record_id::text FROM ${table} WHERE aeo_id = $1 ORDER BY version DESC LIMIT 1`,
      [aeoId],
    );
  if (row === undefined) throw new Error(`no ${table} row for ${aeoId} at ${id}`);
  return row.record_id;
}

async function verified(doc: EvidenceDocument, anchors = [`PE=${roots.PE}`, `CL=${roots.CL}`]) {
  return verifyEvidence(doc, loadAnchors(anchors));
}

const copy = (doc: EvidenceDocument): EvidenceDocument => structuredClone(doc);

/** One character of the signature segment replaced: the text still parses, the signature no longer holds. */
function alterSignature(jws: string): string {
  const i = jws.lastIndexOf('.') + 5;
  return `${jws.slice(0, i)}${jws[i] === 'A' ? 'B' : 'A'}${jws.slice(i + 1)}`;
}

describe('evidence export and offline verify', () => {
  it("exports a published record from PE (CLI), with CL's receipt, and verifies it offline", async () => {
    const recordId = await recordIdOf('PE', 'home_record', ax.aeo.b);
    const [db] = await ax.ex.store('PE').query<{ name: string }>('SELECT current_database() AS name');
    const url = new URL(process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
    url.pathname = `/${db?.name}`;
    const out = join(dir, 'pe-record.json');
    const exported = await gateway(
      [
        'evidence',
        'export',
        '--config',
        ax.ex.admins.get('PE').configPath,
        '--record',
        recordId,
        '--out',
        out,
      ],
      { DATABASE_URL: url.toString() },
    );
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/1 record\(s\), 1 receipt\(s\), 2 audit entries/);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as EvidenceDocument;
    expect(doc).toMatchObject({
      format: 'mra-evidence/1',
      exporter: 'PE',
      subject: { kind: 'record', id: recordId },
    });
    expect(doc.receipts[0]).toMatchObject({ direction: 'received', partner: 'CL' });
    expect(doc.records[0]?.chain[0]).toMatch(/^-----BEGIN CERTIFICATE-----/);

    const ok = await gateway(['evidence', 'verify', out, '--anchors', `PE=${roots.PE}`, `CL=${roots.CL}`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^VERIFIED: evidence of record/);
    expect(ok.stdout).toContain(`record ${recordId}: issued by PE`);
    expect(ok.stdout).toMatch(/receipt [0-9a-f-]{36}: CL received \d+ record\(s\) from PE/);
    expect(ok.stdout).toMatch(new RegExp(`acknowledges by digest: ${recordId} at index \\d+: accepted`));
    expect(ok.stdout).toMatch(/anchored by audit entry \d+ \(records-published/);
    expect(ok.stdout).toMatch(/anchored by audit entry \d+ \(receipt-received/);

    const wrong = await gateway(['evidence', 'verify', out, '--anchors', roots.XX]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^NOT VERIFIED/);
    expect(wrong.stderr).toMatch(/failed: record [0-9a-f-]+: CERT_UNTRUSTED/);
    expect(wrong.stderr).toMatch(/failed: receipt [0-9a-f-]+: CERT_UNTRUSTED/);

    writeFileSync(join(dir, 'not-evidence.json'), '{"format":"mra-evidence/1","format":"x"}');
    const malformed = await gateway([
      'evidence',
      'verify',
      join(dir, 'not-evidence.json'),
      '--anchors',
      roots.PE,
    ]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/mra-gateway: BAD_REQUEST: not an mra-evidence\/1 document/);
  }, 300_000);

  it('binds anchors to administrations, and refuses what is not evidence', async () => {
    const recordId = await recordIdOf('PE', 'home_record', ax.aeo.b);
    const doc = await exportEvidence(ax.ex.store('PE'), 'PE', { record: recordId });
    expect((await verified(doc, [roots.PE, roots.CL])).failed).toEqual([]);
    const swapped = await verified(doc, [`CL=${roots.PE}`, `PE=${roots.CL}`]);
    expect(swapped.failed.join('\n')).toMatch(/issued by PE but signed under CL's anchors/);
    expect(() => loadAnchors([join(dir, 'missing.pem')])).toThrow(/cannot read anchors/);
    const text = JSON.stringify(doc);
    expect(() => parseEvidence(Buffer.from(text.slice(0, 500)))).toThrow(/not an mra-evidence\/1 document/);
    expect(() => parseEvidence(Buffer.from(text.replace('"mra-evidence/1"', '"mra-evidence/2"')))).toThrow(
      /format is not/,
    );
    expect(() => parseEvidence(Buffer.from(text.replace('"records":[', '"records":[1,')))).toThrow(
      /records\[0\] is not an object/,
    );
  });

  it('exports the same record as CL received it, with the receipt CL signed, and verifies it', async () => {
    const recordId = await recordIdOf('CL', 'inbound_record', ax.aeo.b);
    const doc = await exportEvidence(ax.ex.store('CL'), 'CL', { record: recordId });
    expect(doc.records).toMatchObject([{ recordId, origin: 'received' }]);
    expect(doc.receipts).toMatchObject([{ direction: 'sent', partner: 'PE' }]);
    const result = await verified(doc);
    expect(result.failed).toEqual([]);
    expect(result.proven.join('\n')).toMatch(/anchored by audit entry \d+ \(receipt-sent/);
    // The record at PE and at CL is the same signed text.
    const atPe = await exportEvidence(ax.ex.store('PE'), 'PE', { record: recordId, partner: 'CL' });
    expect(atPe.records[0]?.digest).toBe(doc.records[0]?.digest);
  });

  it('exports a receipt with the records it lists, from both sides, and verifies them', async () => {
    const [row] = await ax.ex
      .store('PE')
      .query<{ receipt_id: string }>(
        'SELECT receipt_id::text FROM outbound_receipt ORDER BY received_at LIMIT 1',
      );
    const receiptId = row?.receipt_id ?? '';
    const atPe = await exportEvidence(ax.ex.store('PE'), 'PE', { receipt: receiptId });
    expect(atPe.receipts).toMatchObject([{ receiptId, direction: 'received', partner: 'CL' }]);
    expect(atPe.records.length).toBeGreaterThan(0);
    expect((await verified(atPe)).failed).toEqual([]);
    const atCl = await exportEvidence(ax.ex.store('CL'), 'CL', { receipt: receiptId });
    expect(atCl.receipts).toMatchObject([{ receiptId, direction: 'sent', partner: 'PE' }]);
    expect(atCl.records.map((r) => r.digest).sort()).toEqual(atPe.records.map((r) => r.digest).sort());
    expect((await verified(atCl)).failed).toEqual([]);
    await expect(exportEvidence(ax.ex.store('PE'), 'PE', { receipt: crypto.randomUUID() })).rejects.toThrow(
      /no receipt/,
    );
  });

  it('fails on a byte altered in a record, a receipt or an audit entry, naming the check', async () => {
    const recordId = await recordIdOf('PE', 'home_record', ax.aeo.a);
    const doc = await exportEvidence(ax.ex.store('PE'), 'PE', { record: recordId });
    expect((await verified(doc)).failed).toEqual([]);

    const record = copy(doc);
    const r = record.records[0]!;
    r.jws = alterSignature(r.jws ?? '');
    r.digest = recordDigest(r.jws);
    const recordFailed = (await verified(record)).failed.join('\n');
    expect(recordFailed).toMatch(/record .*: SIGNATURE_INVALID/);
    expect(recordFailed).toMatch(/does not list record .* with digest/);

    const sameDigest = copy(doc);
    sameDigest.records[0]!.jws = alterSignature(sameDigest.records[0]!.jws ?? '');
    expect((await verified(sameDigest)).failed.join('\n')).toMatch(
      /digest stated differs from the SHA-256 of its JWS/,
    );

    const receipt = copy(doc);
    const rc = receipt.receipts[0]!;
    rc.jws = alterSignature(rc.jws);
    rc.digest = recordDigest(rc.jws);
    const receiptFailed = (await verified(receipt)).failed.join('\n');
    expect(receiptFailed).toMatch(/receipt .*: SIGNATURE_INVALID/);
    expect(receiptFailed).toMatch(/audit entry \d+ anchors another text/);

    const results = copy(doc);
    results.receipts[0]!.results[0]!.outcome = 'rejected';
    expect((await verified(results)).failed.join('\n')).toMatch(/results copied differ from the signed ones/);

    const entry = copy(doc);
    const e = entry.audit[0]!;
    e.actor = `${e.actor}x`;
    const entryFailed = (await verified(entry)).failed.join('\n');
    expect(entryFailed).toMatch(/audit entry \d+ .*: its hash does not recompute/);

    const range = copy(doc);
    range.publishedRanges[0]!.rows.push({ seq: 999_999, recordId: crypto.randomUUID(), digest: 'x' });
    expect((await verified(range)).failed.join('\n')).toMatch(/published range does not recompute/);
  });
});
