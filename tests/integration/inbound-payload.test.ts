/**
 * docs/threats.md E 34 to 40 over HTTP: payloads signed with the partner's real key whose bytes are crafted by hand
 * (duplicate members, poisoned names, deep nesting, odd numbers and text). Each is SCHEMA_INVALID, never
 * coerced or stripped, and leaves no trace; what is accepted is stored byte for byte as signed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { forgeJws, segments, signerHeader } from '../support/forge.ts';
import { expectRejected, outcomes, STORE_KINDS } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import { freshRecord } from '../support/records.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['EU', 'PE']);
});
afterAll(() => admins.cleanup());

const pe = () => admins.get('PE').config.home.signers[0]!;
const sign = (payload: string | Uint8Array) =>
  forgeJws({ header: signerHeader(pe()), payload, key: pe().key });
/** The record's JSON text with one exact substring replaced; fails loudly if the substring is not there. */
function edit(record: AeoStatusRecord, from: string, to: string): string {
  const text = JSON.stringify(record);
  if (!text.includes(from)) throw new Error(`${from} not in the record`);
  return text.replace(from, to);
}
const withMember = (record: AeoStatusRecord, member: string) =>
  edit(record, '{"schema"', `{${member},"schema"`);

describe.each(STORE_KINDS)('payloads on %s', (kind) => {
  let gw: InjectedGateway;
  beforeAll(async () => {
    gw = await composeTestGateway(admins.get('EU').config, kind);
  });
  afterAll(() => gw?.close());

  /** expectRejected with SCHEMA_INVALID, and each variant's detail matching its pattern. */
  async function schemaInvalid(
    record: AeoStatusRecord,
    variants: Record<string, [string | Uint8Array, RegExp]>,
  ) {
    const tokens = Object.fromEntries(Object.entries(variants).map(([n, [payload]]) => [n, sign(payload)]));
    const results = await expectRejected(gw, tokens, 'SCHEMA_INVALID', [record]);
    const details = Object.fromEntries(Object.keys(variants).map((n, i) => [n, results[i]!.detail]));
    for (const [name, [, pattern]] of Object.entries(variants)) expect(details[name], name).toMatch(pattern);
  }

  it('34, 35: duplicate members, prototype names and deep nesting', async () => {
    const r = freshRecord('PE');
    await schemaInvalid(r, {
      duplicateStatus: [
        edit(r, '"status":"certified"', '"status":"suspended","status":"certified"'),
        /duplicate/,
      ],
      duplicateNested: [edit(r, '"name":', '"name":"Other S.A.","name":'), /duplicate/],
      protoMember: [withMember(r, '"__proto__":{"version":99}'), /__proto__/],
      constructorMember: [withMember(r, '"constructor":{"prototype":{"admin":true}}'), /constructor/],
      prototypeMember: [withMember(r, '"prototype":{}'), /prototype/],
      nested17: [withMember(r, `"x":${'['.repeat(16)}${']'.repeat(16)}`), /deeper than 16/],
      array5000: [withMember(r, `"x":${'['.repeat(5000)}${']'.repeat(5000)}`), /deeper than 16/],
    });
  });

  it('36: numbers out of range in version', async () => {
    const r = freshRecord('PE');
    const version = (v: string) => edit(r, '"version":1', `"version":${v}`);
    await schemaInvalid(r, {
      huge: [version('1e400'), /too large/],
      negativeZero: [version('-0'), /negative zero/],
      beyond53: [version('9007199254740993'), /2\^53/],
      exactly53: [version('9007199254740992'), /2\^53/],
      fraction: [version('1.5'), /integer/],
      zero: [version('0'), />= 1/],
    });
  });

  it('37: lone surrogates, invalid UTF-8, a BOM', async () => {
    const r = freshRecord('PE');
    const text = JSON.stringify(r);
    const at = text.indexOf('Exportadora');
    const invalid = Buffer.concat([
      Buffer.from(text.slice(0, at), 'utf8'),
      Buffer.of(0xc3, 0x28),
      Buffer.from(text.slice(at), 'utf8'),
    ]);
    await schemaInvalid(r, {
      loneHigh: [edit(r, 'Exportadora', '\\ud800Exportadora'), /surrogate/],
      loneLow: [edit(r, 'Exportadora', '\\udc00Exportadora'), /surrogate/],
      invalidUtf8: [invalid, /UTF-8/],
      overlong: [
        Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.of(0xc0, 0xaf), Buffer.from(text.slice(at))]),
        /UTF-8/,
      ],
      bom: [`\uFEFF${text}`, /byte order mark/],
      nul: [edit(r, 'Exportadora', '\\u0000Exportadora'), /control character/],
    });
  });

  it('38: an extra member or a string version is rejected, never stripped or coerced', async () => {
    const r = freshRecord('PE');
    await schemaInvalid(r, {
      receivedAt: [withMember(r, '"receivedAt":"2026-01-01T00:00:00Z"'), /unknown member "receivedAt"/],
      operatorExtra: [edit(r, '"aeoId"', '"trusted":true,"aeoId"'), /unknown member "trusted"/],
      versionString: [edit(r, '"version":1', '"version":"3"'), /integer/],
      suspendedUntilWhenCertified: [withMember(r, '"suspendedUntil":"2027-01-01"'), /suspendedUntil|must/],
    });
  });

  it('38: what is stored is byte for byte what was signed, formatting included', async () => {
    const r = freshRecord('PE');
    const pretty = `\n{ "version" : 1,\n\t"schema":"aeo-status/1" , ${JSON.stringify(r).slice(1).replace('"version":1,', '').replace('"schema":"aeo-status/1",', '')}  \r\n`;
    const jws = sign(pretty);
    expect(outcomes((await gw.send([jws])).results)).toEqual(['accepted']);
    const [row] = await gw.store.query<{ jws: string }>(
      'SELECT jws FROM inbound_record WHERE record_id = $1',
      [r.recordId],
    );
    expect(row?.jws).toBe(jws);
    expect(Buffer.from(segments(row!.jws)[1], 'base64url').toString('utf8')).toBe(pretty);
  });

  it('39: identifiers with full-width digits, zero-width spaces or lower case are rejected', async () => {
    const r = freshRecord('PE');
    const tin = r.operator.identifiers[0]!.value;
    await schemaInvalid(r, {
      fullWidthValue: [edit(r, tin, `${tin.slice(0, 2)}２０１`), /identifiers/],
      zeroWidthValue: [edit(r, tin, `${tin.slice(0, 4)}\u200b${tin.slice(4)}`), /identifiers/],
      lowerCaseValue: [edit(r, tin, tin.toLowerCase()), /identifiers/],
      lowerCaseScheme: [edit(r, '"scheme":"TIN"', '"scheme":"tin"'), /identifiers/],
      lowerCaseAeoId: [edit(r, r.operator.aeoId, r.operator.aeoId.toLowerCase()), /aeoId/],
      fullWidthAeoId: [edit(r, r.operator.aeoId, `${r.operator.aeoId.slice(0, -1)}９`), /aeoId/],
      zeroWidthIssuer: [edit(r, '"issuer":"PE"', '"issuer":"P\u200bE"'), /issuer/],
    });
  });

  it('39: free text is kept byte-exact', async () => {
    // Composed and decomposed accents, CJK, quotes, a backslash, a zero-width space, an emoji: none normalised.
    const name = 'Exportadora Ñandú Cafe\u0301 S.A.C. — 東京 "Ωmega" \\ back\u200bslash 🚢';
    const street = 'Av. Néstor Gambetta 1265, Km 14.5';
    const r = freshRecord('PE');
    const record = { ...r, operator: { ...r.operator, name, address: { ...r.operator.address, street } } };
    const jws = sign(JSON.stringify(record));
    expect(outcomes((await gw.send([jws])).results)).toEqual(['accepted']);
    const [row] = await gw.store.query<{ name: string; street: string }>(
      `SELECT name, payload->'operator'->'address'->>'street' AS street FROM operator_state WHERE aeo_id = $1`,
      [r.operator.aeoId],
    );
    expect(row).toEqual({ name, street });
  });

  it('40: a payload that is not a JSON object, over-long strings and arrays', async () => {
    const r = freshRecord('PE');
    const many = (n: number) =>
      JSON.stringify(Array.from({ length: n }, (_, i) => ({ scheme: 'TIN', value: `PE${i + 1}` })));
    await schemaInvalid(r, {
      notJson: ['hello', /syntax|unexpected/],
      array: [`[${JSON.stringify(r)}]`, /not an? (JSON )?object/],
      string: ['"aeo-status/1"', /not an? (JSON )?object/],
      nullPayload: ['null', /not an? (JSON )?object/],
      empty: ['', /end of input/],
      nameTooLong: [edit(r, '"name":"', `"name":"${'N'.repeat(301)}`), /name/],
      hugeString: [edit(r, '"city":"', `"city":"${'C'.repeat(100_000)}`), /city/],
      tooManyIdentifiers: [edit(r, JSON.stringify(r.operator.identifiers), many(21)), /identifiers/],
      hugeArray: [withMember(r, `"x":[${Array(50_000).fill('0').join(',')}]`), /unknown member "x"/],
    });
  });
});
