import type { Signer } from '../config/types.ts';
import { RECORD_PROFILE } from '../crypto/compact-jws.ts';
import { signCompactJws } from '../crypto/jws-verify.ts';
import type { AeoStatusRecord } from '../protocol/record.ts';

/** Signs one AEO status record as its own compact JWS (docs/protocol.md, signing profile). */
export function signRecord(record: AeoStatusRecord, signer: Signer): Promise<string> {
  return signCompactJws(
    Buffer.from(JSON.stringify(record), 'utf8'),
    { alg: signer.alg, typ: RECORD_PROFILE.typ, x5c: [...signer.x5c], kid: signer.kid },
    signer.key,
  );
}
