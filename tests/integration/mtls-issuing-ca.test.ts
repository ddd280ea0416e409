/**
 * Mutual TLS with partners that run two levels, root → issuing CA → leaf, as administrations do (docs/threats.md
 * 71), on the pinned runtime. Every administration here is made by the development CA and configured with the
 * partner's root as anchor and its issuing CA under `intermediates`. The receiving gateway (EU) sends only its
 * own TLS leaf, so a client must complete EU's path from EU's issuing CA too.
 */
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { writeConfig } from '../../src/cli/setup.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { RawConfig } from '../../src/config/raw.ts';
import { buildCertificate, toPem } from '../../src/crypto/cert-builder.ts';
import { GatewayError } from '../../src/errors.ts';
import { createPartnerClient } from '../../src/partner-client/client.ts';
import { makeAdmins, type TestAdmin, type TestAdmins } from '../support/admins.ts';
import { expectProblem, outcomes, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { devNames } from '../support/issue.ts';
import { freshSigned } from '../support/records.ts';

let admins: TestAdmins;
/** Administrations no one has an MRA with. */
let stranger: TestAdmins;
let gw: TestGateway;
const agents: Agent[] = [];

const text = (a: TestAdmins, id: string, name: string) =>
  readFileSync(join(a.get(id).dev.certDir, name), 'utf8');
const firstPem = (pem: string) =>
  `${pem.slice(0, pem.indexOf('-----END CERTIFICATE-----'))}-----END CERTIFICATE-----\n`;
/** What a client of EU trusts: EU's root, and EU's issuing CA to complete the path of EU's bare leaf. */
const euTrust = () => text(admins, 'EU', 'root.pem') + text(admins, 'EU', 'issuing-ca.pem');

function agentWith(cert: string, key: string): Agent {
  const agent = new Agent({ connect: { ca: euTrust(), cert, key } });
  agents.push(agent);
  return agent;
}

/** A TLS client leaf issued by `issuer`'s issuing CA, with the names administration `claims` would use. */
function tlsLeafUnder(issuer: TestAdmin, claims: string): { cert: string; key: string } {
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const der = buildCertificate({
    subjectPublicKey: key.publicKey,
    issuerPrivateKey: issuer.issuingKey,
    subject: { ...devNames(claims).root, commonName: `${claims} gateway` },
    issuer: { ...devNames(issuer.adminId).root, commonName: `${issuer.adminId} MRA development issuing CA` },
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 30 * 86_400_000),
    basicConstraints: { ca: false },
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['clientAuth'],
  });
  const cert = toPem(der);
  if (!new X509Certificate(cert).checkIssued(issuer.issuingCert.x509)) {
    throw new Error('the issuing CA name no longer matches the one dev-ca.ts writes');
  }
  return { cert, key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

beforeAll(async () => {
  admins = makeAdmins(['EU', 'PE', 'CL'], {
    mtls: true,
    edit: (id, raw) => {
      const tls = raw.server?.tls;
      if (id !== 'EU' || tls === undefined) return;
      // EU's TLS certificate file holds its leaf alone: only a client that knows EU's issuing CA gets through.
      const leafOnly = join(dirname(tls.certificate), 'tls-leaf.pem');
      writeFileSync(leafOnly, firstPem(readFileSync(tls.certificate, 'utf8')));
      raw.server = { ...raw.server, tls: { ...tls, certificate: leafOnly } };
    },
  });
  stranger = makeAdmins(['XX']);
  gw = await startTestGateway(admins.get('EU').config, 'postgres');
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await gw?.close();
  admins?.cleanup();
  stranger?.cleanup();
});

const signer = (id: string) => admins.get(id).config.home.signers[0]!;

describe('mutual TLS with a partner PKI of two levels (docs/threats.md 71)', () => {
  it('identifies a partner whose client sends its leaf and issuing CA', async () => {
    const chain = text(admins, 'PE', 'tls.pem');
    expect(chain.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const { jws } = await freshSigned('PE', signer('PE'), 2);
    const { receipt, results } = await gw.send(jws, {
      dispatcher: agentWith(chain, text(admins, 'PE', 'tls.key')),
    });
    expect(receipt.sender).toBe('PE');
    expect(outcomes(results)).toEqual(['accepted', 'accepted']);
  });

  it('identifies a partner whose client sends its leaf alone, through the issuing CA configured for it', async () => {
    const leaf = firstPem(text(admins, 'CL', 'tls.pem'));
    expect(leaf.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    const { jws } = await freshSigned('CL', signer('CL'));
    const { receipt, results } = await gw.send(jws, {
      dispatcher: agentWith(leaf, text(admins, 'CL', 'tls.key')),
    });
    expect(receipt.sender).toBe('CL');
    expect(outcomes(results)).toEqual(['accepted']);
  });

  it("refuses a non-partner's leaf, sent with its issuing CA or alone (health probes aside)", async () => {
    const chain = text(stranger, 'XX', 'tls.pem');
    const key = text(stranger, 'XX', 'tls.key');
    for (const cert of [chain, firstPem(chain)]) {
      const res = await gw.post({ records: ['x'] }, { dispatcher: agentWith(cert, key) });
      expectProblem(res, 401, 'PARTNER_UNKNOWN');
    }
  });

  it("takes a leaf issued by PE's issuing CA for PE, even when its names claim CL", async () => {
    const claimsCl = tlsLeafUnder(admins.get('PE'), 'CL');
    const { jws } = await freshSigned('CL', signer('CL'));
    const { receipt, results } = await gw.send(jws, { dispatcher: agentWith(claimsCl.cert, claimsCl.key) });
    expect(receipt.sender).toBe('PE');
    expect(outcomes(results)).toEqual(['rejected:ISSUER_MISMATCH']);
  });

  it("refuses a leaf signed by a look-alike of a partner's issuing CA", async () => {
    // Configured for no one: CL's issuing CA is known to EU, but this leaf is signed by a look-alike of it.
    const lookAlike = makeAdmins(['CL']);
    try {
      const forged = tlsLeafUnder(lookAlike.get('CL'), 'CL');
      const res = await gw.post({ records: ['x'] }, { dispatcher: agentWith(forged.cert, forged.key) }).then(
        (r) => r,
        () => 'handshake refused' as const,
      );
      // OpenSSL refuses it (the signature does not verify with CL's issuing CA), or else the gateway must.
      if (res !== 'handshake refused') expectProblem(res, 401, 'PARTNER_UNKNOWN');
      else expect(res).toBe('handshake refused');
    } finally {
      lookAlike.cleanup();
    }
  });
});

describe("the outbound client and a partner's server that sends its leaf alone", () => {
  const peClientTo = (intermediates: boolean) => {
    const pe = admins.get('PE').config;
    const eu = pe.partners.find((p) => p.adminId === 'EU')!;
    expect(eu.intermediates).toHaveLength(1);
    return createPartnerClient(
      'PE',
      { ...eu, endpoint: `${gw.url}/mra/v1`, intermediates: intermediates ? eu.intermediates : [] },
      { tls: pe.server.tls, timeoutMs: 20_000 },
    );
  };

  it("verifies EU's server through EU's issuing CA, presenting PE's whole chain", async () => {
    const client = peClientTo(true);
    try {
      const { status, body } = await client.getJson('/.well-known/mra-gateway');
      expect(status).toBe(200);
      expect(body).toMatchObject({ adminId: 'EU' });
    } finally {
      await client.close();
    }
  });

  it("cannot verify EU's bare leaf without EU's issuing CA", async () => {
    const client = peClientTo(false);
    try {
      await expect(client.getJson('/.well-known/mra-gateway')).rejects.toThrow(/issuer|verify/i);
    } finally {
      await client.close();
    }
  });
});

describe('partners[].intermediates in the configuration', () => {
  /** EU's configuration with CL's intermediates replaced by `files`, loaded. */
  function loadWithClIntermediates(files: string[]) {
    const raw = parseYaml(readFileSync(admins.get('EU').configPath, 'utf8')) as RawConfig;
    const index = raw.partners.findIndex((p) => p.adminId === 'CL');
    raw.partners[index]!.intermediates = files;
    const path = join(
      admins.dir,
      `EU-intermediates-${files.length}-${Math.random().toString(36).slice(2)}.yaml`,
    );
    writeConfig(path, raw);
    return {
      load: () => loadConfig(path, { env: { LOG_LEVEL: 'silent' } }),
      field: `/partners/${index}/intermediates`,
    };
  }
  const certFile = (id: string, name: string) => join(admins.get(id).dev.certDir, name);

  it('loads the issuing CA of the partner', () => {
    const { load } = loadWithClIntermediates([certFile('CL', 'issuing-ca.pem')]);
    const cl = load().partners.find((p) => p.adminId === 'CL')!;
    expect(cl.intermediates.map((c) => c.fingerprint)).toEqual([admins.get('CL').issuingCert.fingerprint]);
  });

  it.each([
    ["another partner's issuing CA", 'PE', 'issuing-ca.pem', /not issued by a trust anchor of CL/],
    ["the partner's TLS leaf", 'CL', 'tls.pem', /is not a CA/],
    ['a file without a certificate', 'CL', 'tls.key', /holds no PEM certificate|not a PEM certificate/],
  ])('refuses %s with CONFIG_INVALID naming the field', (_what, id, name, why) => {
    const { load, field } = loadWithClIntermediates([certFile('CL', 'issuing-ca.pem'), certFile(id, name)]);
    let error: unknown;
    try {
      load();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('CONFIG_INVALID');
    expect((error as GatewayError).message).toContain(`${field}/1`);
    expect((error as GatewayError).message).toMatch(why);
  });
});
