/**
 * docs/threats.md B (9 to 12, JWS structure and encoding), C 13 to 16 (algorithms, duplicate header members) and
 * D 32 (ECDSA signature encodings)
 * over HTTP: hand-made tokens signed with the partner's real key, each rejected with its exact code and
 * without a trace.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { b64u, forgeJws, P256_N, segments, signerHeader, signInput } from '../support/forge.ts';
import { expectRejected, outcomes } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import { freshRecord } from '../support/records.ts';

let admins: TestAdmins;
let gw: InjectedGateway;

beforeAll(async () => {
  admins = makeAdmins(['EU', 'PE']);
  gw = await composeTestGateway(admins.get('EU').config, 'embedded');
});
afterAll(async () => {
  await gw?.close();
  admins.cleanup();
});

const pe = () => admins.get('PE').config.home.signers[0]!;
/** A correctly signed token of a fresh record, made by forge.ts. */
function good(): { record: AeoStatusRecord; jws: string } {
  const record = freshRecord('PE');
  return { record, jws: forgeJws({ header: signerHeader(pe()), payload: record, key: pe().key }) };
}
/** Header text with the real x5c and kid spliced in, for members a JSON object cannot hold twice. */
const realMembers = () => `"typ":"aeo-status+jws","x5c":${JSON.stringify(pe().x5c)},"kid":"${pe().kid}"`;

it('accepts a token made by the forge with the real key (the baseline of every case below)', async () => {
  const { jws } = good();
  expect(outcomes((await gw.send([jws])).results)).toEqual(['accepted']);
});

describe('B. structure and encoding → JWS_MALFORMED', () => {
  it('9: empty, dots only, two or four segments, trailing dot', async () => {
    const { record, jws } = good();
    const [h, p, s] = segments(jws);
    await expectRejected(
      gw,
      {
        empty: '',
        dot: '.',
        twoDots: '..',
        twoSegments: `${h}.${p}`,
        fourSegments: `${h}.${p}.${s}.${s}`,
        trailingDot: `${jws}.`,
        emptyHeader: `.${p}.${s}`,
      },
      'JWS_MALFORMED',
      [record],
    );
  });

  it('10: white space, tab or newline inside a segment', async () => {
    const { record, jws } = good();
    const [h, p, s] = segments(jws);
    const cut = (x: string, c: string) => `${x.slice(0, 10)}${c}${x.slice(10)}`;
    // A lenient decoder reads the same bytes through the white space: only the strict one tells them apart.
    expect(Buffer.from(cut(p, ' '), 'base64url').equals(Buffer.from(p, 'base64url'))).toBe(true);
    await expectRejected(
      gw,
      {
        spaceInPayload: `${h}.${cut(p, ' ')}.${s}`,
        tabInHeader: `${cut(h, '\t')}.${p}.${s}`,
        newlineInSignature: `${h}.${p}.${cut(s, '\n')}`,
        trailingNewline: `${jws}\n`,
        leadingSpace: ` ${jws}`,
      },
      'JWS_MALFORMED',
      [record],
    );
  });

  it('11: padding, +, /, ?, # and a non-canonical last character', async () => {
    const { record, jws } = good();
    const [h, p, s] = segments(jws);
    expect(s.length % 4).toBe(2); // 64 bytes: the last character carries 4 spare bits
    const last = s.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const spare = alphabet[alphabet.indexOf(last) + 1]!;
    const nonCanonical = `${s.slice(0, -1)}${spare}`;
    expect(Buffer.from(nonCanonical, 'base64url').equals(Buffer.from(s, 'base64url'))).toBe(true);
    const swap = (x: string, c: string) => `${x.slice(0, 5)}${c}${x.slice(6)}`;
    await expectRejected(
      gw,
      {
        paddedSignature: `${h}.${p}.${s}==`,
        paddedHeader: `${h}=.${p}.${s}`,
        plus: `${h}.${p}.${swap(s, '+')}`,
        slash: `${h}.${swap(p, '/')}.${s}`,
        question: `${h}.${p}.${swap(s, '?')}`,
        hash: `${swap(h, '#')}.${p}.${s}`,
        nonCanonicalLast: `${h}.${p}.${nonCanonical}`,
      },
      'JWS_MALFORMED',
      [record],
    );
  });

  it('12: JSON serialization, a header that is not an object, invalid UTF-8, a BOM', async () => {
    const record = freshRecord('PE');
    const { jws } = good();
    const [h, p, s] = segments(jws);
    const signed = (header: string | Uint8Array) =>
      forgeJws({ header, payload: record, key: pe().key, signAs: 'ES256' });
    const headerText = JSON.stringify(signerHeader(pe()));
    const invalidUtf8 = Buffer.concat([
      Buffer.from(headerText.slice(0, -1), 'utf8'),
      Buffer.from(',"x":"\xff\xfe"}', 'latin1'),
    ]);
    await expectRejected(
      gw,
      {
        jsonSerialization: JSON.stringify({ protected: h, payload: p, signature: s }),
        flattenedWithHeader: JSON.stringify({ protected: h, header: {}, payload: p, signature: s }),
        headerArray: signed(`[${headerText}]`),
        headerString: signed('"ES256"'),
        headerNull: signed('null'),
        headerNotJson: signed('alg=ES256'),
        headerInvalidUtf8: signed(invalidUtf8),
        headerBom: signed(`\uFEFF${headerText}`),
      },
      'JWS_MALFORMED',
      [record],
    );
  });
});

describe('C. algorithms and duplicate members', () => {
  it('13: alg none in any casing, with an empty signature or any → ALG_NOT_ALLOWED', async () => {
    const record = freshRecord('PE');
    const unsigned = (alg: string) =>
      forgeJws({ header: signerHeader(pe(), { alg }), payload: record, signAs: 'none' });
    const withSig = forgeJws({
      header: signerHeader(pe(), { alg: 'none' }),
      payload: record,
      signAs: 'ES256',
      key: pe().key,
    });
    await expectRejected(
      gw,
      {
        none: unsigned('none'),
        None: unsigned('None'),
        NONE: unsigned('NONE'),
        nOnE: unsigned('nOnE'),
        signed: withSig,
      },
      'ALG_NOT_ALLOWED',
      [record],
    );
  });

  it('14: HS256 with a MAC keyed by the certificate public key bytes → ALG_NOT_ALLOWED', async () => {
    const record = freshRecord('PE');
    const leafKey = pe().chain[0]!.publicKey;
    const keys = {
      spkiDer: new Uint8Array(leafKey.export({ type: 'spki', format: 'der' })),
      spkiPem: Buffer.from(leafKey.export({ type: 'spki', format: 'pem' }).toString(), 'utf8'),
      certDer: pe().chain[0]!.der,
    };
    const hs = (key: Uint8Array) =>
      forgeJws({ header: signerHeader(pe(), { alg: 'HS256' }), payload: record, key, signAs: 'HS256' });
    await expectRejected(
      gw,
      { spkiDer: hs(keys.spkiDer), spkiPem: hs(keys.spkiPem), certDer: hs(keys.certDer) },
      'ALG_NOT_ALLOWED',
      [record],
    );
  });

  it('15: an alg that does not match the leaf key type, or outside the profile → ALG_NOT_ALLOWED', async () => {
    const record = freshRecord('PE');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const ed = generateKeyPairSync('ed25519').privateKey;
    const as = (alg: string, signAs: 'PS256' | 'EdDSA' | 'ES256', key = pe().key) =>
      forgeJws({ header: signerHeader(pe(), { alg }), payload: record, key, signAs });
    await expectRejected(
      gw,
      {
        ps256OnEcLeaf: as('PS256', 'PS256', rsa),
        eddsaOnEcLeaf: as('EdDSA', 'EdDSA', ed),
        ps512: as('PS512', 'PS256', rsa),
        rs256: as('RS256', 'PS256', rsa),
        es384: as('ES384', 'ES256'),
        es256k: as('ES256K', 'ES256'),
        lowercase: as('es256', 'ES256'),
      },
      'ALG_NOT_ALLOWED',
      [record],
      { ps256OnEcLeaf: /does not match the key type/, eddsaOnEcLeaf: /does not match the key type/ },
    );
  });

  it('16: duplicate header members, validly signed → HEADER_INVALID', async () => {
    const record = freshRecord('PE');
    const x5c = JSON.stringify(pe().x5c);
    const signed = (header: string) => forgeJws({ header, payload: record, key: pe().key, signAs: 'ES256' });
    await expectRejected(
      gw,
      {
        algNoneThenEs256: signed(`{"alg":"none","alg":"ES256",${realMembers()}}`),
        algTwiceSame: signed(`{"alg":"ES256","alg":"ES256",${realMembers()}}`),
        twoX5c: signed(`{"alg":"ES256",${realMembers()},"x5c":${x5c}}`),
        twoKid: signed(`{"alg":"ES256",${realMembers()},"kid":"${pe().kid}"}`),
        escapedDuplicate: signed(`{"alg":"ES256","\\u0061lg":"ES256",${realMembers()}}`),
      },
      'HEADER_INVALID',
      [record],
      {
        algNoneThenEs256: /duplicate member/,
        twoX5c: /duplicate member/,
        twoKid: /duplicate member/,
        escapedDuplicate: /duplicate member/,
      },
    );
    // The same header members once each are accepted: the duplicate alone made the difference.
    expect(outcomes((await gw.send([signed(`{"alg":"ES256",${realMembers()}}`)])).results)).toEqual([
      'accepted',
    ]);
  });

  it('signature over other bytes, or cut short → SIGNATURE_INVALID', async () => {
    const { record, jws } = good();
    const [h, p, s] = segments(jws);
    const other = signInput('ES256', pe().key, `${h}.${b64u('{}')}`);
    await expectRejected(
      gw,
      { otherBytes: `${h}.${p}.${b64u(other)}`, truncated: `${h}.${p}.${s.slice(0, 84)}` },
      'SIGNATURE_INVALID',
      [record],
    );
  });

  it('32: ECDSA signatures out of range, DER-encoded, or of the wrong length → SIGNATURE_INVALID', async () => {
    const record = freshRecord('PE');
    const good = forgeJws({ header: signerHeader(pe()), payload: record, key: pe().key });
    const [h, p, s] = segments(good);
    const raw = Buffer.from(s, 'base64url');
    const int = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
    const rs = (r: bigint, sv: bigint) => `${h}.${p}.${b64u(Buffer.concat([int(r), int(sv)]))}`;
    const der = forgeJws({ header: signerHeader(pe()), payload: record, signature: derOf(raw) });
    await expectRejected(
      gw,
      {
        zeroZero: rs(0n, 0n),
        oneOne: rs(1n, 1n),
        nN: rs(P256_N, P256_N),
        nMinus1: rs(P256_N - 1n, P256_N - 1n),
        zeroS: rs(0n, BigInt(`0x${raw.subarray(32).toString('hex')}`)),
        rN: rs(BigInt(`0x${raw.subarray(0, 32).toString('hex')}`), P256_N),
        der,
        bytes63: `${h}.${p}.${b64u(raw.subarray(0, 63))}`,
        bytes65: `${h}.${p}.${b64u(Buffer.concat([raw, Buffer.of(0)]))}`,
      },
      'SIGNATURE_INVALID',
      [record],
    );
    expect(outcomes((await gw.send([good])).results)).toEqual(['accepted']);
  });
});

/** The DER (ASN.1 SEQUENCE of two INTEGERs) form of a raw R||S signature. */
function derOf(raw: Uint8Array): Uint8Array {
  const integer = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = Buffer.from(b.subarray(i));
    const body = v[0]! & 0x80 ? Buffer.concat([Buffer.of(0), v]) : v;
    return Buffer.concat([Buffer.of(0x02, body.length), body]);
  };
  const seq = Buffer.concat([integer(raw.subarray(0, 32)), integer(raw.subarray(32))]);
  return Buffer.concat([Buffer.of(0x30, seq.length), seq]);
}
