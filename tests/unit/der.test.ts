import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/crypto/certificate.ts';
import {
  bitIsSet,
  children,
  DerError,
  decodeBitString,
  decodeBoolean,
  decodeDer,
  decodeOid,
  decodeSmallInteger,
  MAX_DEPTH,
  TAG,
} from '../../src/crypto/der.ts';
import { makePki } from '../support/pki.ts';

const bytes = (...b: number[]) => Uint8Array.from(b);
const hex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

function derError(fn: () => unknown, message: RegExp): void {
  expect(fn).toThrow(DerError);
  expect(fn).toThrow(message);
}

describe('decodeDer: tag and length', () => {
  it('reads a short-form element and exposes its contents as a view', () => {
    const buf = bytes(0x04, 0x03, 0xaa, 0xbb, 0xcc);
    const el = decodeDer(buf);
    expect(el.tag).toBe(TAG.OCTET_STRING);
    expect(el.constructed).toBe(false);
    expect([...el.value]).toEqual([0xaa, 0xbb, 0xcc]);
    expect(el.raw.length).toBe(5);
    expect(el.value.buffer).toBe(buf.buffer);
  });

  it('reads minimal long-form lengths', () => {
    const one = new Uint8Array(3 + 200);
    one.set([0x04, 0x81, 200]);
    expect(decodeDer(one).value.length).toBe(200);
    const two = new Uint8Array(4 + 300);
    two.set([0x04, 0x82, 0x01, 0x2c]);
    expect(decodeDer(two).value.length).toBe(300);
  });

  it('refuses a long-form length that fits the short form', () => {
    derError(() => decodeDer(bytes(0x04, 0x81, 0x05, 1, 2, 3, 4, 5)), /not minimal/);
  });

  it('refuses a long-form length with a leading zero octet', () => {
    const buf = new Uint8Array(4 + 200);
    buf.set([0x04, 0x82, 0x00, 200]);
    derError(() => decodeDer(buf), /leading zero/);
  });

  it('refuses indefinite length', () => {
    derError(() => decodeDer(bytes(0x30, 0x80, 0x04, 0x00, 0x00, 0x00)), /indefinite/);
  });

  it('refuses lengths of more than four octets', () => {
    derError(() => decodeDer(bytes(0x04, 0x85, 1, 0, 0, 0, 0)), /too long/);
    derError(() => decodeDer(bytes(0x04, 0xff)), /too long/);
  });

  it('refuses a huge length without reading or allocating it', () => {
    const started = performance.now();
    derError(
      () => decodeDer(bytes(0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00)),
      /truncated: contents need 4294967295/,
    );
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('refuses truncation at every point', () => {
    derError(() => decodeDer(bytes()), /no identifier/);
    derError(() => decodeDer(bytes(0x04)), /no length/);
    derError(() => decodeDer(bytes(0x04, 0x82, 0x01)), /length octets/);
    derError(() => decodeDer(bytes(0x04, 0x03, 0xaa)), /truncated: contents/);
  });

  it('refuses trailing octets after the element', () => {
    derError(() => decodeDer(bytes(0x05, 0x00, 0x00)), /1 trailing octets/);
  });

  it('refuses high-tag-number form', () => {
    derError(() => decodeDer(bytes(0x1f, 0x81, 0x00, 0x00)), /high-tag-number/);
  });
});

describe('children and nesting', () => {
  it('splits a SEQUENCE into its elements, one level deeper', () => {
    const seq = decodeDer(bytes(0x30, 0x06, 0x02, 0x01, 0x05, 0x01, 0x01, 0xff));
    const [a, b, ...rest] = children(seq);
    expect(rest).toEqual([]);
    expect(decodeSmallInteger(a!)).toBe(5);
    expect(decodeBoolean(b!)).toBe(true);
    expect(a!.depth).toBe(1);
  });

  it('refuses a child that runs past its parent, even when the buffer goes on', () => {
    // The inner SEQUENCE holds 3 octets; its child claims 4. The outer one has more, but the parent bounds it.
    const outer = decodeDer(bytes(0x30, 0x07, 0x30, 0x03, 0x04, 0x04, 0x01, 0x05, 0x00));
    const [inner, after] = children(outer);
    expect(after?.tag).toBe(TAG.NULL);
    derError(() => children(inner!), /truncated/);
  });

  it('refuses children of a primitive element', () => {
    derError(() => children(decodeDer(bytes(0x04, 0x00))), /primitive/);
  });

  it(`refuses nesting deeper than ${MAX_DEPTH}`, () => {
    const levels = 60;
    const buf = new Uint8Array(levels * 2);
    for (let i = 0; i < levels; i++) buf.set([0x30, (levels - i - 1) * 2], i * 2);
    let el = decodeDer(buf);
    const walk = () => {
      for (;;) {
        const [next] = children(el);
        if (next === undefined) return;
        el = next;
      }
    };
    derError(walk, /nesting deeper than 32/);
    expect(el.depth).toBe(MAX_DEPTH);
  });
});

describe('decodeOid', () => {
  it('decodes common and multi-octet arcs', () => {
    expect(decodeOid(decodeDer(hex('06 03 55 1d 13')))).toBe('2.5.29.19');
    expect(decodeOid(decodeDer(hex('06 08 2a 86 48 ce 3d 04 03 02')))).toBe('1.2.840.10045.4.3.2');
    expect(decodeOid(decodeDer(hex('06 03 2b 65 70')))).toBe('1.3.101.112');
    // 2.999.3: the first octet pair encodes 2*40+999 = 1079.
    expect(decodeOid(decodeDer(hex('06 03 88 37 03')))).toBe('2.999.3');
  });

  it('refuses empty, non-minimal, unterminated and oversized OIDs', () => {
    derError(() => decodeOid(decodeDer(hex('06 00'))), /empty/);
    derError(() => decodeOid(decodeDer(hex('06 03 2b 80 01'))), /not minimal/);
    derError(() => decodeOid(decodeDer(hex('06 02 2b 86'))), /ends inside an arc/);
    const long = new Uint8Array(3 + 129).fill(0x01);
    long.set([0x06, 0x81, 129]);
    derError(() => decodeOid(decodeDer(long)), /too long/);
  });

  it('refuses another tag', () => {
    derError(() => decodeOid(decodeDer(hex('04 01 2b'))), /expected 0x06/);
  });
});

describe('decodeBoolean', () => {
  it('accepts only 0x00 and 0xFF', () => {
    expect(decodeBoolean(decodeDer(hex('01 01 ff')))).toBe(true);
    expect(decodeBoolean(decodeDer(hex('01 01 00')))).toBe(false);
    derError(() => decodeBoolean(decodeDer(hex('01 01 01'))), /not DER/);
    derError(() => decodeBoolean(decodeDer(hex('01 02 ff ff'))), /2 octets/);
    derError(() => decodeBoolean(decodeDer(hex('01 00'))), /0 octets/);
  });
});

describe('decodeBitString', () => {
  it('reads named bits from the most significant bit', () => {
    const bits = decodeBitString(decodeDer(hex('03 03 07 80 80')));
    expect(bits.unusedBits).toBe(7);
    expect(bitIsSet(bits, 0)).toBe(true);
    expect(bitIsSet(bits, 1)).toBe(false);
    expect(bitIsSet(bits, 8)).toBe(true);
    expect(bitIsSet(bits, 40)).toBe(false);
  });

  it('refuses malformed BIT STRINGs', () => {
    derError(() => decodeBitString(decodeDer(hex('03 00'))), /unused-bits octet/);
    derError(() => decodeBitString(decodeDer(hex('03 02 08 00'))), /8 unused bits/);
    derError(() => decodeBitString(decodeDer(hex('03 01 03'))), /empty BIT STRING with unused bits/);
    derError(() => decodeBitString(decodeDer(hex('03 02 01 81'))), /unused bits are not zero/);
  });
});

describe('decodeSmallInteger', () => {
  it('reads minimal non-negative integers and refuses the rest', () => {
    expect(decodeSmallInteger(decodeDer(hex('02 01 00')))).toBe(0);
    expect(decodeSmallInteger(decodeDer(hex('02 02 00 80')))).toBe(128);
    derError(() => decodeSmallInteger(decodeDer(hex('02 02 00 05'))), /not minimally/);
    derError(() => decodeSmallInteger(decodeDer(hex('02 01 ff'))), /negative/);
    derError(() => decodeSmallInteger(decodeDer(hex('02 00'))), /empty/);
    derError(() => decodeSmallInteger(decodeDer(hex('02 05 01 00 00 00 00'))), /too large/);
  });
});

describe('hostile certificates', () => {
  const good = makePki().leafDer;

  it('parses the good certificate the mutations start from', () => {
    expect(parseCertificate(good).basicConstraintsCa).toBe(false);
  });

  it('refuses every truncation of a certificate with an error, never a crash or a partial result', () => {
    for (let n = 0; n < good.length; n++) {
      expect(() => parseCertificate(good.subarray(0, n))).toThrow();
    }
  });

  it('survives 3,000 random single-octet mutations in bounded time', () => {
    // A fixed-seed generator: the same mutations on every run, so a failure can be reproduced.
    let seed = 0x2545f491;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const started = performance.now();
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const copy = new Uint8Array(good);
      copy[next() % copy.length] = next() & 0xff;
      try {
        parseCertificate(copy);
        parsed++;
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
      }
    }
    // Mutations inside names or the signature still parse; the chain rules deal with those.
    expect(parsed).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
