/**
 * The batch written in sets (src/inbound/evidence.ts): one statement per table, values as arrays, each record's
 * JWS and payload as parameters of their own. What is stored is the payload as signed, not a serialisation of
 * the parsed record, and every row of a large mixed batch lands where the per-record rules put it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAdmins, type TestAdmins } from '../support/admins.ts';
import { forgeJws, signerHeader } from '../support/forge.ts';
import { outcomes, STORE_KINDS } from '../support/gateway.ts';
import { composeTestGateway, type InjectedGateway } from '../support/inject.ts';
import { freshRecord, nextVersion, signAll } from '../support/records.ts';

let admins: TestAdmins;
beforeAll(() => {
  admins = makeAdmins(['EU', 'PE']);
});
afterAll(() => admins.cleanup());

const pe = () => admins.get('PE').config.home.signers[0]!;

describe.each(STORE_KINDS)('inbound batch in sets on %s', (kind) => {
  let gw: InjectedGateway;
  beforeAll(async () => {
    gw = await composeTestGateway(admins.get('EU').config, kind);
  });
  afterAll(() => gw?.close());

  it('keeps the payload text as signed in operator_state, never a serialisation of the record', async () => {
    const r = freshRecord('PE');
    // 1.0 is the integer 1 to the schema, and a serialisation of the parsed record would say 1.
    const text = JSON.stringify(r).replace('"version":1,', '"version":1.0,');
    expect(text).toContain('"version":1.0,');
    const jws = forgeJws({ header: signerHeader(pe()), payload: text, key: pe().key });
    expect(outcomes((await gw.send([jws])).results)).toEqual(['accepted']);
    const [row] = await gw.store.query<{ version: string; same: boolean }>(
      `SELECT payload->>'version' AS version, payload::text = $2::jsonb::text AS same
         FROM operator_state WHERE issuer = 'PE' AND aeo_id = $1`,
      [r.operator.aeoId, text],
    );
    expect(row).toEqual({ version: '1.0', same: true });
  });

  it('stores every row of a 300-record batch with versions, identifiers and optional members', async () => {
    const firsts = Array.from({ length: 150 }, (_, i) =>
      freshRecord('PE', i % 2 === 0 ? {} : { status: 'suspended' }),
    );
    for (const [i, r] of firsts.entries()) {
      if (i % 3 === 0) delete r.operator.enterpriseSize;
      else r.operator.enterpriseSize = 'small';
    }
    // Each operator's second version in the same batch, with an identifier of its own: the state and the
    // identifiers are those of version 2.
    const seconds = firsts.map((r, i) =>
      nextVersion(r, 2, {
        operator: {
          ...r.operator,
          name: `Second "quoted" \\ name ${i}`,
          identifiers: [{ scheme: 'EORI', value: `PE${String(900_000 + i)}` }],
        },
      }),
    );
    const batch = await signAll([...firsts, ...seconds], pe());
    const { results } = await gw.send(batch);
    expect(outcomes(results).filter((o) => o !== 'accepted')).toEqual([]);
    const ids = firsts.map((r) => r.operator.aeoId);
    const states = await gw.store.query<{
      aeo_id: string;
      version: string;
      name: string;
      enterprise_size: string | null;
      roles: string[];
    }>(
      `SELECT aeo_id, version::text, name, enterprise_size, roles FROM operator_state
        WHERE issuer = 'PE' AND aeo_id = ANY ($1::text[]) ORDER BY aeo_id`,
      [ids],
    );
    expect(states).toHaveLength(150);
    const byId = new Map(states.map((s) => [s.aeo_id, s]));
    for (const [i, r] of seconds.entries()) {
      const s = byId.get(r.operator.aeoId);
      expect(s?.version).toBe('2');
      expect(s?.name).toBe(`Second "quoted" \\ name ${i}`);
      expect(s?.enterprise_size).toBe(i % 3 === 0 ? null : 'small');
      expect(s?.roles).toEqual(r.operator.roles);
    }
    const identifiers = await gw.store.query<{ scheme: string; n: string }>(
      `SELECT scheme, count(*)::text AS n FROM operator_identifier
        WHERE issuer = 'PE' AND aeo_id = ANY ($1::text[]) GROUP BY scheme`,
      [ids],
    );
    expect(identifiers).toEqual([{ scheme: 'EORI', n: '150' }]);
    const [records] = await gw.store.query<{ n: string; jws_intact: boolean }>(
      `SELECT count(*)::text AS n, bool_and(jws = ANY ($2::text[])) AS jws_intact FROM inbound_record
        WHERE issuer = 'PE' AND aeo_id = ANY ($1::text[])`,
      [ids, batch],
    );
    expect(records).toEqual({ n: '300', jws_intact: true });
  });
});
