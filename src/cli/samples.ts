import { randomUUID } from 'node:crypto';
import type { AeoStatusRecord } from '../protocol/record.ts';

/** A plausible AEO status record for demos, tests and benchmarks. */
export function sampleRecord(
  issuer: string,
  n: number,
  overrides: Partial<AeoStatusRecord> = {},
): AeoStatusRecord {
  const aeoId = `${issuer}AEO${String(n).padStart(8, '0')}`;
  return {
    schema: 'aeo-status/1',
    recordId: randomUUID(),
    issuer,
    issuedAt: new Date().toISOString(),
    version: 1,
    operator: {
      aeoId,
      identifiers: [
        { scheme: 'TIN', value: `${issuer}${String(20_000_000 + n)}` },
        { scheme: 'EORI', value: `${issuer}${String(900_000_000 + n)}` },
      ],
      name: `Exportadora Andina ${n} S.A.C.`,
      address: {
        street: `Av. Argentina ${100 + (n % 900)}`,
        city: 'Callao',
        postcode: '07001',
        country: issuer,
      },
      roles: ['exporter', 'manufacturer'],
      enterpriseSize: n % 3 === 0 ? 'small' : 'large',
    },
    programme: 'AEO-F',
    status: 'certified',
    statusSince: '2025-03-01',
    certifiedOn: '2025-03-01',
    lastValidatedOn: '2026-03-01',
    ...overrides,
  };
}
