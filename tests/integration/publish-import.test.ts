/**
 * Bulk import of the national register over real HTTP, on PostgreSQL and the embedded store: JSON lines and
 * CSV files of a few hundred operators with bad lines among them. Each bad line is counted and reported with
 * its line number and code while the others are published; running the same import again replays every line
 * and publishes nothing; the CSV columns reach the signed record exactly, quotes and line breaks included.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Partner } from '../../src/mra/types.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { expectProblem, STORE_KINDS, startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  apiGet,
  certifyBody,
  freshAeoId,
  homeRecords,
  type ImportProgressBody,
  importProgress,
  postImport,
  publishCounts,
  TOKENS,
  verifyAsPartner,
  withApiClients,
} from '../support/publishing.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['PE', 'CL', 'AR'], { edit: (_id, raw) => withApiClients(raw) });
});
afterAll(() => admins.cleanup());

const peAtCl = (): Partner => admins.get('CL').config.partners.find((p) => p.adminId === 'PE')!;

/** A file built line by line, remembering which lines must be rejected and with what code. */
class ImportFile {
  readonly parts: Buffer[] = [];
  readonly expected: { line: number; code: string }[] = [];
  line = 0;
  readonly eol: string;
  constructor(eol = '\n') {
    this.eol = eol;
  }
  /** Adds one record; `physicalLines` when it spans several (a quoted line break). */
  add(text: string | Buffer, rejectedAs?: string, physicalLines = 1): number {
    const start = this.line + 1;
    this.parts.push(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'), Buffer.from(this.eol));
    this.line += physicalLines;
    if (rejectedAs !== undefined) this.expected.push({ line: start, code: rejectedAs });
    return start;
  }
  body(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const parsed = (text: string) => JSON.parse(text) as ImportProgressBody;
const codes = (p: ImportProgressBody) => p.errors.map((e) => ({ line: e.line, code: e.code }));

describe.each(STORE_KINDS)('register imports on %s', (kind) => {
  let pe: TestGateway;
  beforeAll(async () => {
    pe = await startTestGateway(admins.get('PE').config, kind);
  });
  afterAll(() => pe?.close());

  it('imports JSON lines: bad lines reported by number and code, the rest published; a re-run replays', async () => {
    const f = new ImportFile();
    const ids = Array.from({ length: 300 }, () => freshAeoId());
    const ownDecisionId = crypto.randomUUID();
    for (const [i, aeoId] of ids.entries()) {
      const extra = i === 7 ? { decisionId: ownDecisionId } : {};
      f.add(JSON.stringify({ ...certifyBody(aeoId, { consent: i % 10 !== 0 }), ...extra }));
      if (i === 20) f.add('{"decisionId": "x", "aeoId":', 'LINE_MALFORMED');
      if (i === 40) f.add(JSON.stringify(certifyBody(freshAeoId().toLowerCase())), 'BODY_INVALID');
      if (i === 60)
        f.add(JSON.stringify({ ...certifyBody(freshAeoId()), receivedAt: 'now' }), 'BODY_INVALID');
      if (i === 80) f.add(JSON.stringify({ aeoId: freshAeoId(), decision: 'suspend' }), 'NOT_FOUND');
      if (i === 100)
        f.add(`{"aeoId":"${ids[5]}","decision":"suspend","decision":"revoke"}`, 'LINE_MALFORMED');
      if (i === 120)
        f.add(JSON.stringify(certifyBody(freshAeoId(), { name: 'x'.repeat(70_000) })), 'LINE_TOO_LONG');
      if (i === 140) f.add(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]), 'LINE_MALFORMED');
      if (i === 160) f.add('   ');
      if (i === 200)
        f.add(JSON.stringify({ aeoId: ids[5], decision: 'suspend', suspendedUntil: '2026-12-31' }));
      if (i === 220) f.add(JSON.stringify({ aeoId: ids[10], decision: 'consent', consent: true }));
    }
    const importId = crypto.randomUUID();
    const before = await publishCounts(pe.store);
    const res = await postImport(pe, f.body(), { importId });
    expect(res.status, res.text.slice(0, 500)).toBe(201);
    expect(res.headers.location).toBe(`/api/v1/register/imports/${importId}`);
    const done = parsed(res.text);
    expect(done).toMatchObject({
      importId,
      format: 'ndjson',
      state: 'finished',
      runs: 1,
      linesRead: 309,
      applied: 302,
      replayed: 0,
      published: 272,
      rejected: 7,
      failure: null,
    });
    expect(codes(done)).toEqual(f.expected);
    expect(done.errors.find((e) => e.code === 'NOT_FOUND')?.detail).toMatch(/not in the register/);
    const after = await publishCounts(pe.store);
    expect(after.home_record! - before.home_record!).toBe(272);
    expect(after.outbox! - before.outbox!).toBe(544);
    expect(after.home_operator! - before.home_operator!).toBe(300);
    // Lines with their own decisionId keep it; the suspension later in the file is version 2.
    const [own] = await pe.store.query('SELECT aeo_id FROM home_decision WHERE decision_id = $1', [
      ownDecisionId,
    ]);
    expect(own).toEqual({ aeo_id: ids[7] });
    expect((await homeRecords(pe.store, ids[5]!)).map((r) => [r.version, r.status])).toEqual([
      [1, 'certified'],
      [2, 'suspended'],
    ]);
    expect((await homeRecords(pe.store, ids[10]!)).map((r) => [r.version, r.status])).toEqual([
      [1, 'certified'],
    ]);

    // The same import again: every line replays, nothing is published twice.
    const again = await postImport(pe, f.body(), { importId });
    expect(again.status).toBe(200);
    expect(parsed(again.text)).toMatchObject({
      state: 'finished',
      runs: 2,
      linesRead: 309,
      applied: 0,
      replayed: 302,
      published: 0,
      rejected: 7,
    });
    expect(await publishCounts(pe.store)).toEqual(after);

    // Listed among the recent imports; an unknown or malformed id is answered as such.
    const list = JSON.parse((await apiGet(pe, '/register/imports')).text) as {
      imports: ImportProgressBody[];
    };
    expect(list.imports.find((i) => i.importId === importId)).toMatchObject({ runs: 2, state: 'finished' });
    expectProblem(await apiGet(pe, `/register/imports/${crypto.randomUUID()}`), 404, 'NOT_FOUND');
    expectProblem(await apiGet(pe, '/register/imports/not-an-id'), 400, 'BODY_INVALID');
    expectProblem(await apiGet(pe, `/register/imports/${importId}`, TOKENS.border), 403, 'FORBIDDEN');
  });

  it('imports CSV: header mapping, quotes, line breaks and lists; bad rows reported by line', async () => {
    const f = new ImportFile('\r\n');
    f.add(
      '\ufeffaeoId,decision,consent,programme,statusSince,certifiedOn,name,street,city,postcode,country,roles,identifiers,enterpriseSize',
    );
    const row = (aeoId: string, o: Record<string, string> = {}) =>
      [
        aeoId,
        o.decision ?? 'certify',
        o.consent ?? 'true',
        o.programme ?? 'AEO-F',
        '2025-03-01',
        o.certifiedOn ?? '2025-03-01',
        o.name ?? `Exportadora ${aeoId} S.A.C.`,
        o.street ?? 'Av. Argentina 123',
        'Callao',
        '07001',
        'PE',
        o.roles ?? 'exporter manufacturer',
        o.identifiers ?? `TIN:${aeoId}T;EORI:${aeoId}E`,
        'small',
      ].join(',');
    const ids = Array.from({ length: 300 }, () => freshAeoId());
    const special = ids[3]!;
    for (const [i, aeoId] of ids.entries()) {
      if (i === 3) {
        const quoted = { name: '"Exportadora ""La Andina"", S.A."', street: '"Av. Argentina 123\r\nPiso 4"' };
        f.add(row(aeoId, { ...quoted, roles: 'exporter; customs-broker' }), undefined, 2);
      } else f.add(row(aeoId, { consent: i % 3 === 0 ? 'false' : 'true' }));
      if (i === 10) f.add(`${freshAeoId()},certify,true`, 'LINE_MALFORMED');
      if (i === 30) f.add(row(freshAeoId(), { name: '"bad"quote' }), 'LINE_MALFORMED');
      if (i === 50) f.add(row(freshAeoId(), { certifiedOn: '2025-02-30' }), 'BODY_INVALID');
      if (i === 70) f.add(row(freshAeoId(), { consent: 'yes' }), 'BODY_INVALID');
      if (i === 90) f.add(row(freshAeoId(), { identifiers: 'TIN-PE1' }), 'BODY_INVALID');
      if (i === 110) f.add(row(freshAeoId(), { roles: 'exporter smuggler' }), 'BODY_INVALID');
      if (i === 130) f.add(`${freshAeoId()},suspend,,,,,,,,,,,,`, 'NOT_FOUND');
      if (i === 150) f.add('');
      if (i === 250) f.add(`${ids[4]},suspend,,,2026-05-01,,,,,,,,,`);
    }
    f.add(row(freshAeoId(), { name: '"never closed' }), 'LINE_MALFORMED');
    const importId = crypto.randomUUID();
    const before = await publishCounts(pe.store);
    const res = await postImport(pe, f.body(), { importId, contentType: 'text/csv; charset=utf-8' });
    expect(res.status, res.text.slice(0, 500)).toBe(201);
    const done = parsed(res.text);
    const consenting = ids.filter((_, i) => i === 3 || i % 3 !== 0).length;
    expect(done).toMatchObject({
      format: 'csv',
      state: 'finished',
      linesRead: 309,
      applied: 301,
      rejected: 8,
      published: consenting + 1,
    });
    expect(codes(done)).toEqual(f.expected);
    const detail = (code: string, n = 0) => done.errors.filter((e) => e.code === code)[n]?.detail;
    expect(detail('LINE_MALFORMED', 0)).toBe('3 fields where the header has 14');
    expect(detail('LINE_MALFORMED', 1)).toMatch(/^Invalid Closing Quote: got "q" instead of delimiter/);
    expect(detail('LINE_MALFORMED', 2)).toBe('a quoted field is not closed');
    expect(detail('BODY_INVALID', 2)).toBe('identifiers: "TIN-PE1" is not SCHEME:VALUE');
    const after = await publishCounts(pe.store);
    expect(after.home_record! - before.home_record!).toBe(consenting + 1);

    // The quoted row, as a partner reads it from the signed record.
    const [rec] = await homeRecords(pe.store, special);
    const record = await verifyAsPartner(rec!.jws, peAtCl());
    expect(record.operator).toEqual({
      aeoId: special,
      identifiers: [
        { scheme: 'TIN', value: `${special}T` },
        { scheme: 'EORI', value: `${special}E` },
      ],
      name: 'Exportadora "La Andina", S.A.',
      address: { street: 'Av. Argentina 123\nPiso 4', city: 'Callao', postcode: '07001', country: 'PE' },
      roles: ['exporter', 'customs-broker'],
      enterpriseSize: 'small',
    });
    expect((await homeRecords(pe.store, ids[4]!)).map((r) => [r.version, r.status])).toEqual([
      [1, 'certified'],
      [2, 'suspended'],
    ]);

    const again = await postImport(pe, f.body(), { importId, contentType: 'text/csv' });
    expect(parsed(again.text)).toMatchObject({
      runs: 2,
      applied: 0,
      replayed: 301,
      published: 0,
      rejected: 8,
    });
    expect(await publishCounts(pe.store)).toEqual(after);
  });

  it('refuses a CSV whose header it cannot read, before applying any row', async () => {
    const before = await publishCounts(pe.store);
    const cases = {
      'unknown column': 'aeoId,decision,vip\nPEAEO1,suspend,yes\n',
      'no aeoId column': 'decision,consent\nsuspend,true\n',
      'a column twice': 'aeoId,decision,aeoId\nPEAEO1,suspend,PEAEO1\n',
      'no header at all': '',
    };
    for (const [name, body] of Object.entries(cases)) {
      const importId = crypto.randomUUID();
      const res = await postImport(pe, body, { importId, contentType: 'text/csv' });
      expect(expectProblem(res, 400, 'BODY_INVALID').detail, name).toMatch(new RegExp(`import ${importId}`));
      const progress = await importProgress(pe, importId);
      expect(progress, name).toMatchObject({ state: 'failed', linesRead: 0 });
    }
    // Also when most of a large body is still to come: the answer is the problem document, not a reset.
    async function* large(): AsyncGenerator<string> {
      yield 'aeoId,decision,vip\n';
      for (let i = 0; i < 200; i += 1) yield `${'PEAEO1,suspend,yes\n'.repeat(1000)}`;
    }
    expectProblem(await postImport(pe, large(), { contentType: 'text/csv' }), 400, 'BODY_INVALID');
    expect(await publishCounts(pe.store)).toEqual(before);
  });

  it('accepts only JSON lines and CSV, and only from holders of the publish scope', async () => {
    const line = JSON.stringify(certifyBody(freshAeoId()));
    for (const contentType of ['application/json', 'text/plain', 'application/x-ndjson; charset=latin1']) {
      expectProblem(await postImport(pe, line, { contentType }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    expectProblem(await postImport(pe, line, { token: null }), 401, 'UNAUTHORIZED');
    expectProblem(await postImport(pe, line, { token: TOKENS.border }), 403, 'FORBIDDEN');
    expectProblem(await postImport(pe, line, { importId: 'not-a-uuid' }), 400, 'BODY_INVALID');
  });

  it('answers 413 to a body declared over 1 GiB before reading it', async () => {
    const { hostname, port } = new URL(pe.gateway.apiUrl);
    const head = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.write(
          'POST /api/v1/register/imports HTTP/1.1\r\nHost: gateway\r\n' +
            `Authorization: Bearer ${TOKENS.publish}\r\nContent-Type: application/x-ndjson\r\n` +
            `Content-Length: ${1024 ** 3 + 1}\r\n\r\n{}\n`,
        );
      });
      let text = '';
      socket.on('data', (d) => {
        text += d.toString('utf8');
        if (text.includes('}')) socket.destroy();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
    expect(head).toContain('"code":"BODY_TOO_LARGE"');
    // The unread body is not drained: the connection is closed instead.
    expect(head).toMatch(/\r\nconnection: close\r\n/i);
  });
});
