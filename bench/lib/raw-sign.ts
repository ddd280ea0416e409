/**
 * The machine's raw signing rate: node:crypto, one worker thread per core, each signing the JWS signing input
 * of one real record with the home administration's ES256 key in a loop for a fixed time. The signing twin of
 * raw-verify.ts: what publishing is measured against.
 */
import { measureOnAllCores, type RawRate } from './raw-rate.ts';

const SIGN = `
const { createPrivateKey, sign } = require('node:crypto');
const key = createPrivateKey({ key: Buffer.from(workerData.pkcs8), format: 'der', type: 'pkcs8' });
const data = Buffer.from(workerData.data);
const options = { key, dsaEncoding: 'ieee-p1363' };
const once = () => sign('sha256', data, options);
if (once().length !== 64) throw new Error('not an ES256 signature');
`;

export type RawSign = RawRate;

/**
 * `signed` is one real record as the gateway signs it: the rate is measured on the same signing input length
 * as the publishing path. `pkcs8` is the ES256 private key (DER).
 */
export async function measureRawSign(signed: string, pkcs8: Uint8Array, seconds: number): Promise<RawSign> {
  const data = Buffer.from(signed.slice(0, signed.lastIndexOf('.')), 'ascii');
  return measureOnAllCores(SIGN, { pkcs8, data }, seconds);
}
