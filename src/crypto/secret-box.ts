/**
 * Secrets the gateway must read back (webhook signing secrets) sealed at rest with AES-256-GCM under keys from
 * the configuration. The first key seals; every key opens, so a key is rotated by adding the new one first and
 * removing the old one once nothing sealed under it is left. Each sealed value names its key and is bound to a
 * context (the row it belongs to), so a ciphertext copied into another row does not open there.
 */
import { createCipheriv, createDecipheriv, type KeyObject, randomBytes } from 'node:crypto';
import { GatewayError } from '../errors.ts';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SecretKey {
  id: string;
  /** 32 bytes, AES-256. */
  key: KeyObject;
}

export interface Sealed {
  keyId: string;
  /** base64url of iv ‖ ciphertext ‖ tag. */
  data: string;
}

export interface SecretBox {
  /** The key new values are sealed with. */
  readonly sealingKeyId: string;
  seal(plaintext: string, context: string): Sealed;
  /** Throws INTERNAL when the key is not configured or the value was altered or moved to another context. */
  open(sealed: Sealed, context: string): string;
  has(keyId: string): boolean;
}

export function createSecretBox(keys: readonly SecretKey[]): SecretBox {
  const first = keys[0];
  if (first === undefined) throw new GatewayError('CONFIG_INVALID', 'a secret box needs at least one key');
  for (const k of keys) {
    if (k.key.type !== 'secret' || k.key.symmetricKeySize !== 32) {
      throw new GatewayError('CONFIG_INVALID', `secret key ${k.id} is not 32 bytes`);
    }
  }
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  return {
    sealingKeyId: first.id,
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', first.key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aadOf(first.id, context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return { keyId: first.id, data: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url') };
    },
    open(sealed, context) {
      const key = byId.get(sealed.keyId);
      if (key === undefined) {
        throw new GatewayError('INTERNAL', `sealed with key ${sealed.keyId}, which is not configured`);
      }
      const raw = Buffer.from(sealed.data, 'base64url');
      if (raw.length < IV_BYTES + TAG_BYTES) throw new GatewayError('INTERNAL', 'sealed value is truncated');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), {
          authTagLength: TAG_BYTES,
        });
        decipher.setAAD(aadOf(sealed.keyId, context));
        decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
        const plain = Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
          decipher.final(),
        ]);
        return plain.toString('utf8');
      } catch (cause) {
        throw new GatewayError('INTERNAL', `sealed value under key ${sealed.keyId} does not open here`, {
          cause,
        });
      }
    },
    has: (keyId) => byId.has(keyId),
  };
}

function aadOf(keyId: string, context: string): Buffer {
  return Buffer.from(`${keyId}\n${context}`, 'utf8');
}
