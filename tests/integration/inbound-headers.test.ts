/**
 * docs/threats.md C 17 to 21 over HTTP: header members that are never allowed (b64, crit, jku, x5u, jwk), hostile
 * `kid` values and `typ`. Every token is validly signed by the partner's real key, so only the header rule can
 * reject it. This gateway logs at info level into memory, so the tests can look for hostile values in logs.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { b64u, forgeJws, signerHeader, signInput } from '../support/forge.ts';
import {
  expectRejected,
  outcomes,
  startTestGateway,
  type TestGateway,
  tableCounts,
} from '../support/gateway.ts';
import { freshRecord } from '../support/records.ts';

let admins: TestAdmins;
let gw: TestGateway;
const logLines: string[] = [];

beforeAll(async () => {
  admins = makeAdmins(['EU', 'PE']);
  const log = createLogger('info', { write: (line: string) => void logLines.push(line) });
  gw = await startTestGateway(admins.get('EU').config, 'embedded', { log });
});
afterAll(async () => {
  await gw?.close();
  admins.cleanup();
});

const pe = () => admins.get('PE').config.home.signers[0]!;
function signedWith(header: Record<string, unknown>, record = freshRecord('PE')) {
  return forgeJws({ header: signerHeader(pe(), header), payload: record, key: pe().key, signAs: 'ES256' });
}

describe('17: b64 and crit → HEADER_INVALID', () => {
  it('refuses b64: false with or without crit, and any crit', async () => {
    const record = freshRecord('PE');
    const header = signerHeader(pe(), { b64: false, crit: ['b64'] });
    // RFC 7797 for real: the signature covers the unencoded payload, which travels detached.
    const h = b64u(JSON.stringify(header));
    const detached = `${h}..${b64u(signInput('ES256', pe().key, `${h}.${JSON.stringify(record)}`))}`;
    // The same header over a normally encoded payload.
    const encoded = forgeJws({ header, payload: record, key: pe().key, signAs: 'ES256' });
    await expectRejected(
      gw,
      {
        b64FalseCrit: encoded,
        b64FalseDetached: detached,
        b64False: signedWith({ b64: false }, record),
        b64True: signedWith({ b64: true }, record),
        critExp: signedWith({ crit: ['exp'], exp: 1 }, record),
        critEmpty: signedWith({ crit: [] }, record),
      },
      'HEADER_INVALID',
      [record],
      { b64FalseCrit: /member (b64|crit) is not allowed/, b64False: /b64/, critExp: /crit/ },
    );
  });
});

describe('18: jku and x5u pointing at a loopback listener → HEADER_INVALID, no fetch', () => {
  let listener: Server;
  let connections = 0;
  let base = '';
  beforeAll(async () => {
    listener = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const address = listener.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  it('never connects to the URL a token names', async () => {
    const record = freshRecord('PE');
    await expectRejected(
      gw,
      {
        jku: signedWith({ jku: `${base}/jwks.json` }, record),
        x5u: signedWith({ x5u: `${base}/chain.pem` }, record),
        both: signedWith({ jku: `${base}/a`, x5u: `${base}/b` }, record),
        x5uWithoutX5c: forgeJws({
          header: { alg: 'ES256', typ: 'aeo-status+jws', x5u: `${base}/c`, kid: pe().kid },
          payload: record,
          key: pe().key,
        }),
      },
      'HEADER_INVALID',
      [record],
      { jku: /member jku is not allowed/, x5u: /member x5u is not allowed/ },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(connections).toBe(0);
  });
});

describe('19: jwk with the attacker own key → HEADER_INVALID', () => {
  it('never takes a key from the message', async () => {
    const record = freshRecord('PE');
    const attacker = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwk = attacker.publicKey.export({ format: 'jwk' });
    await expectRejected(
      gw,
      {
        jwkWithRealX5c: forgeJws({
          header: signerHeader(pe(), { jwk }),
          payload: record,
          key: attacker.privateKey,
        }),
        jwkOnly: forgeJws({
          header: { alg: 'ES256', typ: 'aeo-status+jws', jwk },
          payload: record,
          key: attacker.privateKey,
        }),
      },
      'HEADER_INVALID',
      [record],
      { jwkWithRealX5c: /member jwk is not allowed/, jwkOnly: /member jwk is not allowed/ },
    );
  });
});

describe('20: hostile kid values', () => {
  const hostile = {
    sql: "x'; DROP TABLE inbound_record; --",
    sqlOr: "' OR '1'='1",
    path: '../../../../etc/passwd',
    nul: 'abc\u0000def',
    long: 'K'.repeat(10_000),
    shapedButWrong: b64u(Buffer.alloc(32, 7)),
  };

  it('rejects each with HEADER_INVALID; tables intact; the value reaches neither logs nor receipt', async () => {
    const record = freshRecord('PE');
    const tokens = Object.fromEntries(
      Object.entries(hostile).map(([name, kid]) => [name, signedWith({ kid }, record)]),
    );
    const before = await tableCounts(gw.store);
    const results = await expectRejected(gw, tokens, 'HEADER_INVALID', [record], {
      sql: /kid must be/,
      path: /kid must be/,
      nul: /control character/,
      long: /kid must be/,
      shapedButWrong: /kid is not the SHA-256 thumbprint/,
    });
    const after = await tableCounts(gw.store);
    expect(after.inbound_receipt).toBe(before.inbound_receipt + 1);
    const receiptText = JSON.stringify(results);
    const logs = logLines.join('');
    expect(logs).toContain('records batch received');
    for (const [name, kid] of Object.entries(hostile)) {
      if (name === 'shapedButWrong') continue;
      expect(receiptText.includes(kid), name).toBe(false);
      expect(logs.includes(kid), name).toBe(false);
      expect(logs.includes(JSON.stringify(kid).slice(1, -1)), name).toBe(false);
    }
    // The same record with the right kid goes through: only the kid was wrong.
    expect(outcomes((await gw.send([signedWith({}, record)])).results)).toEqual(['accepted']);
  });
});

describe('21: typ and unknown members → HEADER_INVALID', () => {
  it('refuses a missing or wrong typ and any member outside the profile', async () => {
    const record = freshRecord('PE');
    const { typ: _typ, ...withoutTyp } = signerHeader(pe());
    await expectRejected(
      gw,
      {
        missingTyp: forgeJws({ header: withoutTyp, payload: record, key: pe().key }),
        jwt: signedWith({ typ: 'JWT' }, record),
        receiptTyp: signedWith({ typ: 'aeo-receipt+jws' }, record),
        requestTyp: signedWith({ typ: 'mra-request+jws' }, record),
        upperCase: signedWith({ typ: 'AEO-STATUS+JWS' }, record),
        mediaType: signedWith({ typ: 'application/aeo-status+jws' }, record),
        typNumber: signedWith({ typ: 1 }, record),
        unknownMember: signedWith({ foo: 'bar' }, record),
        cty: signedWith({ cty: 'json' }, record),
        exp: signedWith({ exp: 1 }, record),
        missingKid: forgeJws({
          header: { alg: 'ES256', typ: 'aeo-status+jws', x5c: [...pe().x5c] },
          payload: record,
          key: pe().key,
        }),
      },
      'HEADER_INVALID',
      [record],
      {
        missingTyp: /typ must be/,
        jwt: /typ must be/,
        unknownMember: /unknown header member/,
        missingKid: /kid/,
      },
    );
  });
});
