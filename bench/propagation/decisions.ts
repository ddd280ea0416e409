/** The decisions the propagation benchmark publishes, and the open-loop sender of phase 1 and its baseline. */
import { randomUUID } from 'node:crypto';
import { MAX_IN_FLIGHT, sleep } from './options.ts';

function operator(aeoId: string, n: number) {
  return {
    identifiers: [
      { scheme: 'TIN', value: `${aeoId}T` },
      { scheme: 'EORI', value: `${aeoId}E` },
    ],
    name: `Exportadora Andina ${n} S.A.C.`,
    address: { street: `Av. Argentina ${100 + (n % 900)}`, city: 'Callao', postcode: '07001', country: 'PE' },
    roles: ['exporter', 'manufacturer'],
    enterpriseSize: n % 3 === 0 ? 'small' : 'large',
  };
}

export function certify(aeoId: string, n: number) {
  return {
    decisionId: randomUUID(),
    aeoId,
    decision: 'certify',
    consent: true,
    programme: 'AEO-F',
    statusSince: '2025-03-01',
    certifiedOn: '2025-03-01',
    lastValidatedOn: '2026-03-01',
    operator: operator(aeoId, n),
  };
}

export const latencyId = (i: number) => `PEL${String(i).padStart(9, '0')}`;
export const throughputId = (i: number) => `PEB${String(i).padStart(9, '0')}`;

/**
 * Sends `count` requests at `rate` a second (open loop: a slow answer does not delay the next call, up to
 * MAX_IN_FLIGHT in flight) and returns when every answer is in. `call(i)` makes the i-th request.
 */
export async function steady(
  count: number,
  rate: number,
  call: (i: number) => Promise<void>,
): Promise<{ seconds: number }> {
  const interval = 1000 / rate;
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  const failures: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 1) await sleep(wait);
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    const p: Promise<void> = call(i)
      .catch((error: unknown) => {
        failures.push(error);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  const lastCall = performance.now();
  await Promise.all(inFlight);
  if (failures.length > 0) {
    const first = failures[0];
    throw new Error(
      `${failures.length} of ${count} calls failed; first: ${first instanceof Error ? first.message : String(first)}`,
    );
  }
  // The achieved rate: calls made over the time from the first to the last (count - 1 intervals).
  return { seconds: count > 1 ? (lastCall - start) / 1000 : 0 };
}
