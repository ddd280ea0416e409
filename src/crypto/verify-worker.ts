/**
 * A worker thread of the verification pool (verify-pool.ts): it verifies each request's signatures one after
 * the other with node:crypto's one-shot verify, synchronously, and answers once per request.
 *
 * The parameters are those of RFC 7518 as WebCrypto and jose apply them: ES256 is ECDSA over SHA-256 with the
 * signature as raw r||s (ieee-p1363, never DER), EdDSA is Ed25519, PS256 is RSASSA-PSS with SHA-256, MGF1 over
 * SHA-256 (the default for a plain RSA key) and a salt of exactly 32 bytes. Which key fits which algorithm, and
 * the fixed signature lengths, are judged before a request is sent (jws-verify.ts); a signature that makes
 * OpenSSL throw rather than answer is one that does not verify.
 */
import { constants, type KeyObject, verify } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import {
  ALG_CODE,
  ENTRY_WORDS,
  READY_ID,
  VERIFIES,
  type VerifyAnswer,
  type VerifyRequest,
} from './verify-wire.ts';

const PS256_SALT_LENGTH = 32;

function verifyOne(alg: number, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    switch (alg) {
      case ALG_CODE.ES256:
        return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
      case ALG_CODE.EdDSA:
        return verify(null, data, key, signature);
      case ALG_CODE.PS256:
        return verify(
          'sha256',
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PS256_SALT_LENGTH },
          signature,
        );
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** The answer to one request: a verdict byte per signature, in order. */
export function answer(request: VerifyRequest): VerifyAnswer & { verdicts: Uint8Array<ArrayBuffer> } {
  const table = new Uint32Array(request.buffer, 0, request.count * ENTRY_WORDS);
  const bytes = new Uint8Array(request.buffer);
  const verdicts = new Uint8Array(new ArrayBuffer(request.count));
  for (let i = 0; i < request.count; i++) {
    const at = i * ENTRY_WORDS;
    const key = request.keys[table[at + 1]!] as KeyObject | undefined;
    const start = table[at + 2]!;
    const middle = table[at + 3]!;
    const end = table[at + 4]!;
    if (key === undefined) continue;
    const ok = verifyOne(table[at]!, key, bytes.subarray(start, middle), bytes.subarray(middle, end));
    if (ok) verdicts[i] = VERIFIES;
  }
  return { id: request.id, verdicts };
}

const port = parentPort;
if (port === null) throw new Error('verify-worker.ts runs as a worker thread of the verification pool');
port.on('message', (request: VerifyRequest) => {
  const result = answer(request);
  port.postMessage(result, [result.verdicts.buffer]);
});
port.postMessage({ id: READY_ID, verdicts: new Uint8Array(0) } satisfies VerifyAnswer);
