/**
 * Request tokens on feed and snapshot (docs/threats.md 51, 52), through the HTTP app, on PostgreSQL and on the embedded
 * store: every way a token can be missing or wrong is a 401 problem naming the rule, an API bearer token is a
 * 403, and each `jti` opens one request only, whichever replica or store answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRecord } from '../../src/publishing/sign-record.ts';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { API_TOKENS, bearer, getPartnerRoute, makeLinkedAdmins, requestToken } from '../support/exchange.ts';
import { expectProblem, STORE_KINDS } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import { freshRecord } from '../support/records.ts';

let admins: TestAdmins;
/** An administration PE has no MRA with: its certificates chain to no anchor PE knows. */
let stranger: TestAdmins;
beforeAll(async () => {
  admins = await makeLinkedAdmins(['PE', 'CL', 'EU']);
  stranger = makeAdmins(['XX']);
});
afterAll(() => {
  admins.cleanup();
  stranger.cleanup();
});

const ROUTES = ['/feed', '/snapshot'] as const;
const minutes = (n: number) => new Date(Date.now() + n * 60_000);

describe.each(STORE_KINDS)('request tokens on %s', (kind) => {
  let pe: InjectedGateway;
  beforeAll(async () => {
    pe = await composeTestGateway(admins.get('PE').config, kind);
  });
  afterAll(() => pe?.close());

  const signer = (id: string) => admins.get(id).config.home.signers[0]!;
  const jtiRows = async () =>
    Number((await pe.store.query<{ n: string }>('SELECT count(*)::text AS n FROM request_jti'))[0]!.n);

  it('opens feed and snapshot to a valid token, once, and purges used jti values once expired', async () => {
    await pe.store.query(
      `INSERT INTO request_jti (jti, partner, expires_at) VALUES ('CL:stale-jti-000000000', 'CL', $1)`,
      [minutes(-60).toISOString()],
    );
    for (const route of ROUTES) {
      const res = await getPartnerRoute(pe, route, `MRA ${await requestToken(signer('CL'), 'CL', 'PE')}`);
      expect(res.status, res.text).toBe(200);
    }
    // The stale row went with the first purge; each accepted token left one row.
    const rows = await pe.store.query<{ jti: string; partner: string }>(
      'SELECT jti, partner FROM request_jti',
    );
    expect(rows.map((r) => r.partner)).toEqual(['CL', 'CL']);
    // Any partner with an MRA may call, the scheme in any casing (RFC 9110).
    const eu = await requestToken(signer('EU'), 'EU', 'PE');
    expect((await getPartnerRoute(pe, '/feed', `mra ${eu}`)).status).toBe(200);
  });

  it('refuses every missing or wrong token with 401 UNAUTHORIZED naming the rule (docs/threats.md 51)', async () => {
    const cl = signer('CL');
    const record = await signRecord(freshRecord('CL'), cl);
    const cases: Record<string, [() => Promise<string | undefined>, RegExp]> = {
      none: [async () => undefined, /request token is required/],
      otherScheme: [async () => `Bearer ${'x'.repeat(40)}`, /must be "MRA <jws>"/],
      twoSpaces: [async () => `MRA  ${await requestToken(cl, 'CL', 'PE')}`, /must be "MRA <jws>"/],
      notAJws: [async () => 'MRA not.a.token', /JWS_MALFORMED/],
      recordAsToken: [async () => `MRA ${record}`, /HEADER_INVALID: typ must be mra-request\+jws/],
      expired: [
        async () => `MRA ${await requestToken(cl, 'CL', 'PE', { now: minutes(-10), lifetimeSeconds: 300 })}`,
        /expired/,
      ],
      tooLong: [
        async () => `MRA ${await requestToken(cl, 'CL', 'PE', { lifetimeSeconds: 3600 })}`,
        /at most 300/,
      ],
      fromTheFuture: [
        async () => `MRA ${await requestToken(cl, 'CL', 'PE', { now: minutes(10) })}`,
        /future/,
      ],
      wrongAudience: [async () => `MRA ${await requestToken(cl, 'CL', 'EU')}`, /aud must be PE/],
      issuerLies: [
        async () => `MRA ${await requestToken(signer('EU'), 'CL', 'PE')}`,
        /iss must name .*\(EU\)/,
      ],
      unknownSigner: [
        async () => `MRA ${await requestToken(stranger.get('XX').config.home.signers[0]!, 'CL', 'PE')}`,
        /CERT_UNTRUSTED/,
      ],
      ownKey: [async () => `MRA ${await requestToken(signer('PE'), 'PE', 'PE')}`, /CERT_UNTRUSTED/],
      badJti: [async () => `MRA ${await requestToken(cl, 'CL', 'PE', { jti: 'short' })}`, /jti/],
    };
    const before = await jtiRows();
    for (const route of ROUTES) {
      for (const [name, [make, rule]] of Object.entries(cases)) {
        const res = await getPartnerRoute(pe, route, await make());
        const problem = expectProblem(res, 401, 'UNAUTHORIZED');
        expect(problem.detail, `${route} ${name}`).toMatch(rule);
        expect(res.headers['www-authenticate'], name).toBe('MRA');
      }
    }
    // A refused token never takes a jti row.
    expect(await jtiRows()).toBe(before);
  });

  it('opens one request per jti: a replayed token, or a new token with a used jti, is 401', async () => {
    const cl = signer('CL');
    const jti = crypto.randomUUID();
    const token = `MRA ${await requestToken(cl, 'CL', 'PE', { jti })}`;
    expect((await getPartnerRoute(pe, '/feed', token)).status).toBe(200);
    for (const route of ROUTES) {
      const problem = expectProblem(await getPartnerRoute(pe, route, token), 401, 'UNAUTHORIZED');
      expect(problem.detail).toMatch(/jti was already used/);
    }
    const resigned = `MRA ${await requestToken(cl, 'CL', 'PE', { jti })}`;
    expect(resigned).not.toBe(token);
    expectProblem(await getPartnerRoute(pe, '/snapshot', resigned), 401, 'UNAUTHORIZED');
    // Used jti values are per issuer: EU's token with the same jti value is its own.
    expect(
      (await getPartnerRoute(pe, '/feed', `MRA ${await requestToken(signer('EU'), 'EU', 'PE', { jti })}`))
        .status,
    ).toBe(200);
  });

  it('answers an API bearer token on partner routes with 403 FORBIDDEN (docs/threats.md 52)', async () => {
    for (const route of ROUTES) {
      for (const t of [API_TOKENS.operator, API_TOKENS.monitoring]) {
        const res = await getPartnerRoute(pe, route, bearer(t).authorization);
        expectProblem(res, 403, 'FORBIDDEN');
      }
    }
  });
});
