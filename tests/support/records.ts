/**
 * Fresh AEO status records for integration tests: every call names a new operator and a new recordId, so tests
 * sharing one gateway never see each other's state.
 */
import { randomInt } from 'node:crypto';
import { sampleRecord } from '../../src/cli/samples.ts';
import type { Signer } from '../../src/config/types.ts';
import type { AeoStatusRecord } from '../../src/protocol/record.ts';
import { signRecord } from '../../src/publishing/sign-record.ts';

let next = randomInt(1_000_000, 50_000_000);

export function freshRecord(issuer: string, overrides: Partial<AeoStatusRecord> = {}): AeoStatusRecord {
  next += 1;
  return sampleRecord(issuer, next, overrides);
}

/** The same operator, another version and recordId. */
export function nextVersion(
  record: AeoStatusRecord,
  version: number,
  overrides: Partial<AeoStatusRecord> = {},
): AeoStatusRecord {
  return {
    ...record,
    recordId: crypto.randomUUID(),
    version,
    issuedAt: new Date().toISOString(),
    ...overrides,
  };
}

export function signAll(records: readonly AeoStatusRecord[], signer: Signer): Promise<string[]> {
  return Promise.all(records.map((r) => signRecord(r, signer)));
}

/** `n` fresh records of `issuer`, signed. */
export async function freshSigned(
  issuer: string,
  signer: Signer,
  n = 1,
  overrides: Partial<AeoStatusRecord> = {},
): Promise<{ records: AeoStatusRecord[]; jws: string[] }> {
  const records = Array.from({ length: n }, () => freshRecord(issuer, overrides));
  return { records, jws: await signAll(records, signer) };
}
