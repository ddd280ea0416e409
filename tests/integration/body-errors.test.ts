/**
 * A refused request body names every member at fault with its JSON pointer, not only the first: the decision
 * schema (validation.ts) and the routes' own schemas (fastify's validator) alike, bounded to ten and a count
 * of the rest, always with the code BODY_INVALID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { expectProblem } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import { TOKENS, withApiClients } from '../support/publishing.ts';

let admins: TestAdmins;
let pe: InjectedGateway;
beforeAll(async () => {
  admins = makeAdmins(['PE', 'CL'], { edit: (_id, raw) => withApiClients(raw) });
  pe = await composeTestGateway(admins.get('PE').config, 'postgres');
});
afterAll(async () => {
  await pe?.close();
  admins?.cleanup();
});

const post = (path: string, token: string, body: unknown) =>
  pe.api.post(path, body, { headers: { authorization: `Bearer ${token}` } });

function detailOf(res: { status: number; text: string }): string {
  expectProblem(res as Parameters<typeof expectProblem>[0], 400, 'BODY_INVALID');
  return (JSON.parse(res.text) as { detail: string }).detail;
}

describe('schema errors of a request body', () => {
  it('a decision: every member at fault, each with its pointer', async () => {
    const detail = detailOf(
      await post('/api/v1/decisions', TOKENS.publish, {
        decisionId: 'not-a-uuid',
        aeoId: 'lower case',
        decision: 'certify',
        programme: 'AEO-Z',
        colour: 'blue',
      }),
    );
    expect(detail).toContain('/decisionId: must match pattern');
    expect(detail).toContain('/aeoId: must match pattern');
    expect(detail).toContain('/programme: must be one of "AEO-S", "AEO-C", "AEO-F"');
    expect(detail).toContain('unknown member "colour"');
  });

  it('many errors: the first ten, then "and N more"', async () => {
    const detail = detailOf(
      await post('/api/v1/decisions', TOKENS.publish, {
        decisionId: '0b7c6f1e-8d1a-4c1e-9a57-2f4b1d3c5e6f',
        aeoId: 'PEAEO00012345',
        decision: 'certify',
        programme: 'AEO-F',
        certifiedOn: '2025-01-01',
        operator: {
          name: 'X',
          address: { street: 's', city: 'c', country: 'PE' },
          roles: ['exporter'],
          identifiers: Array.from({ length: 15 }, () => ({ scheme: 'TIN', value: 'lower-case' })),
        },
      }),
    );
    const pointers = detail.match(/\/operator\/identifiers\/\d+/g) ?? [];
    expect(pointers).toHaveLength(10);
    expect(detail).toMatch(/; and 5 more$/);
  });

  it("a route's own schema (fastify's validator): every member at fault", async () => {
    const detail = detailOf(
      await post('/api/v1/subscriptions', TOKENS.border, { url: 5, issuers: 'CL', events: 'all' }),
    );
    expect(detail).toContain('body/url');
    expect(detail).toContain('body/issuers');
    expect(detail).toContain('body/events');
    // Exactly the three, each once.
    expect(detail.replace(/^request /, '').split('; ')).toHaveLength(3);
  });
});

/**
 * A large body is validated stopping at its first error: describing every member at fault of a body of a
 * million would build an error per member (seconds of a blocked event loop, hundreds of MB).
 */
describe('schema errors of a large request body', () => {
  const million = () => `[${Array.from({ length: 1_000_000 }, () => '1').join(',')}]`;
  const send = async (client: InjectedGateway['api'], path: string, body: string, token?: string) => {
    const started = performance.now();
    const res = await client.post(path, body, {
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
    });
    return { res, ms: performance.now() - started };
  };

  it("a route's own schema: 400 at once with the first error only", async () => {
    const { res, ms } = await send(pe.partner, '/mra/v1/records', `{"records":${million()}}`);
    const detail = detailOf(res);
    expect(detail.length).toBeLessThan(400);
    expect(detail).toContain('only the first error is reported for inputs over 64 KiB');
    // Generous on a loaded machine; every error of this body took about 4 s and 600 MB.
    expect(ms).toBeLessThan(3_000);
  });

  it('a schema of schemas/ (validation.ts): 400 at once with the first error only', async () => {
    const body = `{"decisionId":"x","aeoId":"y","decision":"certify","programme":"AEO-F","extra":${million()}}`;
    const { res, ms } = await send(pe.api, '/api/v1/decisions', body, TOKENS.publish);
    const detail = detailOf(res);
    expect(detail.length).toBeLessThan(400);
    expect(detail).toContain('only the first error is reported');
    expect(ms).toBeLessThan(3_000);
  });

  it('a small body still has every error listed', async () => {
    const { res } = await send(pe.partner, '/mra/v1/records', '{"records":[1,2,3]}');
    const detail = detailOf(res);
    expect(detail.match(/body\/records\/\d/g)).toHaveLength(3);
    expect(detail).not.toContain('only the first');
  });
});
