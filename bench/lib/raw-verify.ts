/**
 * The machine's raw signature-verification rate: node:crypto, one worker thread per core, each verifying the
 * same ES256 signature of one real record in a loop for a fixed time.
 */
import { measureOnAllCores, type RawRate } from './raw-rate.ts';

const VERIFY = `
const { createPublicKey, verify } = require('node:crypto');
const key = createPublicKey({ key: Buffer.from(workerData.spki), format: 'der', type: 'spki' });
const data = Buffer.from(workerData.data);
const signature = Buffer.from(workerData.signature);
const options = { key, dsaEncoding: 'ieee-p1363' };
const once = () => verify('sha256', data, options, signature);
if (!once()) throw new Error('the fixed signature does not verify');
`;

export type RawVerify = RawRate;

/** `signed` is one real record: the rate is measured on the same signing input length as the inbound path. */
export async function measureRawVerify(
  signed: string,
  spki: Uint8Array,
  seconds: number,
): Promise<RawVerify> {
  const lastDot = signed.lastIndexOf('.');
  const data = Buffer.from(signed.slice(0, lastDot), 'ascii');
  const signature = Buffer.from(signed.slice(lastDot + 1), 'base64url');
  return measureOnAllCores(VERIFY, { spki, data, signature }, seconds);
}
