/**
 * The inbound flow end to end over HTTP with the partners' real certificates: accepted batches and their
 * signed receipts, mixed batches, retries and replays (docs/threats.md 44, 46, 50, 58, 63, 64), on PostgreSQL and
 * on the embedded store.
 */
import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactVerify, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePemCertificates } from '../../src/crypto/certificate.ts';
import { RECEIPT_PROFILE } from '../../src/crypto/compact-jws.ts';
import { verifySignedObject } from '../../src/crypto/verify-signed.ts';
import type { Partner } from '../../src/mra/types.ts';
import { checkReceipt, DELIVERED_OUTCOMES } from '../../src/partner-client/receipt-check.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { chainHeader, forgeJws, highSTwin } from '../support/forge.ts';
import { expectNoTrace, outcomes, STORE_KINDS, tableCounts } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import { issueUnder } from '../support/issue.ts';
import { freshRecord, freshSigned, nextVersion, signAll } from '../support/records.ts';

const sha256url = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64url');

let admins: TestAdmins;
beforeAll(() => {
  // EU's MRA with PE leaves AEO-C out, so that a record can be out of scope.
  admins = makeAdmins(['EU', 'PE', 'CL'], {
    edit: (id, raw) => {
      if (id !== 'EU') return;
      for (const p of raw.partners) p.mra.scope.programmes = ['AEO-S', 'AEO-F'];
    },
  });
});
afterAll(() => admins.cleanup());

describe.each(STORE_KINDS)('inbound records on %s', (kind) => {
  let gw: InjectedGateway;
  const pe = () => admins.get('PE').config.home.signers[0]!;
  /** The receiver as PE's configuration knows it: what PE checks EU's receipts against. */
  const euAtPe = (): Partner => admins.get('PE').config.partners.find((p) => p.adminId === 'EU')!;
  const check = (receiptJws: string, sent: readonly string[]) =>
    checkReceipt(receiptJws, sent, { home: 'PE', partner: euAtPe(), at: new Date() });

  beforeAll(async () => {
    gw = await composeTestGateway(admins.get('EU').config, kind);
  });
  afterAll(() => gw?.close());

  it('accepts a batch and answers with a receipt that verifies against the keys of .well-known', async () => {
    const { records, jws } = await freshSigned('PE', pe(), 3);
    const before = await tableCounts(gw.store);
    const { receiptJws, receipt, results } = await gw.send(jws);

    // The published key: its x5c chains to the receiver's CA, and it verifies the receipt.
    const wk = await gw.partner.request('/mra/v1/.well-known/mra-gateway', { method: 'GET' });
    expect(wk.status).toBe(200);
    const meta = JSON.parse(wk.text) as { adminId: string; keys: { keys: (JWK & { x5c: string[] })[] } };
    expect(meta.adminId).toBe('EU');
    const jwk = meta.keys.keys[0]!;
    expect(jwk).not.toHaveProperty('d');
    // Two levels: the receiver's root (its partners' anchor) issued the issuing CA that issued the leaf.
    const ca = new X509Certificate(readFileSync(join(admins.get('EU').dev.certDir, 'root.pem')));
    const leaf = new X509Certificate(Buffer.from(jwk.x5c[0]!, 'base64'));
    const issuing = new X509Certificate(Buffer.from(jwk.x5c[1]!, 'base64'));
    expect(leaf.checkIssued(issuing) && issuing.checkIssued(ca)).toBe(true);
    expect(leaf.verify(issuing.publicKey) && issuing.verify(ca.publicKey)).toBe(true);
    expect(leaf.publicKey.export({ format: 'jwk' })).toMatchObject({ x: jwk.x, y: jwk.y, crv: jwk.crv });
    const key = await importJWK(jwk, jwk.alg);
    const verified = await compactVerify(receiptJws, key, { algorithms: [jwk.alg!] });
    expect(verified.protectedHeader.typ).toBe('aeo-receipt+jws');
    expect(verified.protectedHeader.kid).toBe(jwk.kid);
    expect(JSON.parse(Buffer.from(verified.payload).toString('utf8'))).toEqual(receipt);

    // The project's own verifier against the receiver's root.pem, and the sender's check of the receipt.
    const anchors = parsePemCertificates(ca.toString());
    const own = await verifySignedObject(receiptJws, {
      profile: RECEIPT_PROFILE,
      stores: [{ adminId: 'EU', anchors, revokedFingerprints: new Set() }],
      at: new Date(),
    });
    expect(own.ok && own.signer).toBe('EU');
    const checked = await check(receiptJws, jws);
    expect(checked.ok).toBe(true);

    expect(receipt).toMatchObject({ schema: 'aeo-receipt/1', sender: 'PE', receiver: 'EU' });
    expect(results).toEqual(
      jws.map((t, i) => ({
        index: i,
        recordId: records[i]!.recordId,
        digest: sha256url(t),
        outcome: 'accepted',
      })),
    );

    // Stored: the exact compact JWS, the current state and the identifiers; the receipt as sent.
    const after = await tableCounts(gw.store);
    expect(after.inbound_record - before.inbound_record).toBe(3);
    expect(after.operator_state - before.operator_state).toBe(3);
    expect(after.operator_identifier - before.operator_identifier).toBe(6);
    for (const [i, r] of records.entries()) {
      const [row] = await gw.store.query<{ jws: string; outcome: string; jws_digest: string }>(
        'SELECT jws, outcome, jws_digest FROM inbound_record WHERE record_id = $1',
        [r.recordId],
      );
      expect(row).toEqual({ jws: jws[i], outcome: 'accepted', jws_digest: sha256url(jws[i]!) });
      const state = await gw.store.query<{ version: string; record_id: string; status: string }>(
        'SELECT version::text, record_id::text, status FROM operator_state WHERE issuer = $1 AND aeo_id = $2',
        ['PE', r.operator.aeoId],
      );
      expect(state).toEqual([{ version: '1', record_id: r.recordId, status: 'certified' }]);
      const ids = await gw.store.query<{ scheme: string; value: string }>(
        'SELECT scheme, value FROM operator_identifier WHERE aeo_id = $1 ORDER BY scheme',
        [r.operator.aeoId],
      );
      expect(ids).toEqual([...r.operator.identifiers].sort((a, b) => a.scheme.localeCompare(b.scheme)));
    }
    const receipts = await gw.store.query<{ receipt_jws: string; accepted_count: number }>(
      'SELECT receipt_jws, accepted_count FROM inbound_receipt WHERE receipt_id = $1',
      [receipt.receiptId],
    );
    expect(receipts).toEqual([{ receipt_jws: receiptJws, accepted_count: 3 }]);
  });

  it('judges each record of a mixed batch on its own: one bad record never sinks the batch', async () => {
    const held = freshRecord('PE', { version: 5 });
    const [heldJws] = await signAll([held], pe());
    expect(outcomes((await gw.send([heldJws!])).results)).toEqual(['accepted']);

    const good = freshRecord('PE');
    const last = freshRecord('PE');
    const [goodJws, lastJws, schemaJws, scopeJws, futureJws, conflictJws, versionJws, olderJws] =
      await signAll(
        [
          good,
          last,
          { ...freshRecord('PE'), version: 0 },
          freshRecord('PE', { programme: 'AEO-C' }),
          freshRecord('PE', { issuedAt: new Date(Date.now() + 3_600_000).toISOString() }),
          { ...good, status: 'revoked' },
          { ...good, recordId: crypto.randomUUID() },
          { ...held, recordId: crypto.randomUUID(), version: 4 },
        ],
        pe(),
      );
    const [clJws] = await signAll([freshRecord('CL')], admins.get('CL').config.home.signers[0]!);
    const [h, p, sig] = goodJws!.split('.') as [string, string, string];
    const header = (extra: object) =>
      Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), ...extra }),
      ).toString('base64url');
    const untrusted = issueUnder(admins.get('PE'), { issuerPrivateKey: admins.get('CL').caKey });
    const expired = issueUnder(admins.get('PE'), {
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const viaLeaf = (leaf: { chainDer: Uint8Array[]; leafKey: KeyObject }) =>
      forgeJws({ header: chainHeader(leaf.chainDer), payload: freshRecord('PE'), key: leaf.leafKey });

    const batch = {
      accepted: goodJws!,
      JWS_MALFORMED: 'not a jws',
      HEADER_INVALID: `${header({ jku: 'http://127.0.0.1:1/' })}.${p}.${sig}`,
      ALG_NOT_ALLOWED: `${header({ alg: 'none' })}.${p}.`,
      SIGNATURE_INVALID: `${h}.${p}.${sig.slice(0, -6)}AAAAAA`,
      CERT_UNTRUSTED: viaLeaf(untrusted),
      CERT_EXPIRED: viaLeaf(expired),
      SCHEMA_INVALID: schemaJws!,
      ISSUER_MISMATCH: clJws!,
      OUT_OF_SCOPE: scopeJws!,
      ISSUED_IN_FUTURE: futureJws!,
      RECORD_ID_CONFLICT: conflictJws!,
      VERSION_CONFLICT: versionJws!,
      duplicate: goodJws!,
      superseded: olderJws!,
      last: lastJws!,
    };
    const tokens = Object.values(batch);
    const before = await tableCounts(gw.store);
    const { receipt, results } = await gw.send(tokens);
    expect(receipt.sender).toBe('PE');
    expect(Object.fromEntries(Object.keys(batch).map((k, i) => [k, outcomes([results[i]!])[0]]))).toEqual(
      Object.fromEntries(
        Object.keys(batch).map((k) => [
          k,
          k === 'last' ? 'accepted' : /^[a-z]/.test(k) ? k : `rejected:${k}`,
        ]),
      ),
    );
    expect(results.map((r) => r.index)).toEqual(tokens.map((_, i) => i));
    expect(results.map((r) => r.digest)).toEqual(tokens.map(sha256url));
    // Stored: the two accepted and the superseded record; state for the two new operators; one security event.
    const after = await tableCounts(gw.store);
    expect(after.inbound_record - before.inbound_record).toBe(3);
    expect(after.operator_state - before.operator_state).toBe(2);
    expect(after.security_event - before.security_event).toBe(1);
    const [state] = await gw.store.query<{ version: string }>(
      'SELECT version::text FROM operator_state WHERE aeo_id = $1',
      [held.operator.aeoId],
    );
    expect(state?.version).toBe('5');
  });

  it('answers a byte-identical retry with duplicate outcomes and stores nothing new (44, 58, 63)', async () => {
    const { records, jws } = await freshSigned('PE', pe(), 3);
    const first = await gw.send(jws);
    expect(outcomes(first.results)).toEqual(['accepted', 'accepted', 'accepted']);
    const before = await tableCounts(gw.store);
    const retry = await gw.send(jws);
    expect(outcomes(retry.results)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect(retry.receipt.receiptId).not.toBe(first.receipt.receiptId);
    expect(retry.results.map((r) => [r.recordId, r.digest])).toEqual(
      first.results.map((r) => [r.recordId, r.digest]),
    );
    await expectNoTrace(gw.store, before);
    expect((await tableCounts(gw.store)).inbound_receipt).toBe(before.inbound_receipt + 1);
    const rows = await gw.store.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM inbound_record WHERE record_id = ANY($1::uuid[])',
      [records.map((r) => r.recordId)],
    );
    expect(rows).toEqual([{ n: '3' }]);
    // Both receipts prove delivery to the sender.
    for (const r of [first, retry]) {
      const checked = await check(r.receiptJws, jws);
      expect(checked.ok && checked.receipt.results.every((x) => DELIVERED_OUTCOMES.has(x.outcome))).toBe(
        true,
      );
    }
  });

  it('counts the same payload re-signed (new nonce, or the (r, n-s) twin) as a duplicate (46)', async () => {
    const record = freshRecord('PE');
    const [a, b] = await signAll([record, record], pe());
    expect(a).not.toBe(b);
    const twin = highSTwin(a!);
    expect(twin).not.toBe(a);
    expect(outcomes((await gw.send([a!])).results)).toEqual(['accepted']);
    const before = await tableCounts(gw.store);
    const { results } = await gw.send([b!, twin]);
    expect(outcomes(results)).toEqual(['duplicate', 'duplicate']);
    await expectNoTrace(gw.store, before);
    const [row] = await gw.store.query<{ jws: string }>(
      'SELECT jws FROM inbound_record WHERE record_id = $1',
      [record.recordId],
    );
    expect(row?.jws).toBe(a);
  });

  it('stores one copy of two identical batches sent at the same moment, with consistent receipts (64)', async () => {
    const { records, jws } = await freshSigned('PE', pe(), 5);
    const before = await tableCounts(gw.store);
    const [x, y] = await Promise.all([gw.send(jws), gw.send(jws)]);
    for (const [i] of jws.entries()) {
      const pair = [x.results[i]!.outcome, y.results[i]!.outcome].sort();
      expect(pair).toEqual(['accepted', 'duplicate']);
      expect(x.results[i]!.digest).toBe(y.results[i]!.digest);
    }
    const after = await tableCounts(gw.store);
    expect(after.inbound_record - before.inbound_record).toBe(5);
    expect(after.operator_state - before.operator_state).toBe(5);
    expect(after.inbound_receipt - before.inbound_receipt).toBe(2);
    const held = await gw.store.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM operator_state WHERE aeo_id = ANY($1::text[])',
      [records.map((r) => r.operator.aeoId)],
    );
    expect(held).toEqual([{ n: '5' }]);
    for (const r of [x, y]) expect((await check(r.receiptJws, jws)).ok).toBe(true);
  });

  it('keeps versions moving forward when batches for the same operators race (I5, 64)', async () => {
    const [x1, y1] = [freshRecord('PE'), freshRecord('PE')];
    const [x2, y2] = [nextVersion(x1, 2), nextVersion(y1, 2)];
    const [x3, y3] = [nextVersion(x1, 3), nextVersion(y1, 3)];
    const [a, b, c] = await Promise.all([
      signAll([x1, y2, x3], pe()),
      signAll([y1, x2, y3], pe()),
      signAll([x3, y3], pe()),
    ]);
    const sent = await Promise.all([gw.send(a), gw.send(b), gw.send(c)]);
    const all = sent.flatMap((s) => outcomes(s.results));
    expect(all.every((o) => ['accepted', 'superseded', 'duplicate'].includes(o))).toBe(true);
    const states = await gw.store.query<{ aeo_id: string; version: string; record_id: string }>(
      'SELECT aeo_id, version::text, record_id::text FROM operator_state WHERE aeo_id IN ($1, $2) ORDER BY aeo_id',
      [x1.operator.aeoId, y1.operator.aeoId],
    );
    expect(states).toEqual(
      [x3, y3]
        .map((r) => ({ aeo_id: r.operator.aeoId, version: '3', record_id: r.recordId }))
        .sort((m, n) => m.aeo_id.localeCompare(n.aeo_id)),
    );
    const rows = await gw.store.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM inbound_record WHERE aeo_id IN ($1, $2)',
      [x1.operator.aeoId, y1.operator.aeoId],
    );
    expect(rows).toEqual([{ n: '6' }]);
  });
});
