/**
 * The verification pool (src/crypto/verify-pool.ts): a batch's signatures split across worker threads and
 * answered in order; a worker that dies fails what it held with a retryable error, never a verdict, and is
 * replaced; idle workers never keep a process alive.
 */
import { execFileSync } from 'node:child_process';
import { constants, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createVerifyPool, type PoolItem } from '../../src/crypto/verify-pool.ts';
import { GatewayError } from '../../src/errors.ts';
import { SHORT_COUNT, SILENT_COUNT } from '../support/verify-worker-faulty.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherEc = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function signed(alg: PoolItem['alg'], privateKey: KeyObject, text: string): Uint8Array {
  const data = Buffer.from(text, 'latin1');
  switch (alg) {
    case 'ES256':
      return sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return sign(null, data, privateKey);
    case 'PS256':
      return sign('sha256', data, {
        key: privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
  }
}

/** `count` items over three algorithms and two ways of giving the signing input; every fifth one is forged. */
function mixedItems(count: number): { items: PoolItem[]; expected: boolean[] } {
  const items: PoolItem[] = [];
  const expected: boolean[] = [];
  const pairs = [
    ['ES256', ec],
    ['EdDSA', ed],
    ['PS256', rsa],
  ] as const;
  for (let i = 0; i < count; i++) {
    const [alg, pair] = pairs[i % 3]!;
    const head = `eyJhbGciOi${i}`;
    const body = `cGF5bG9hZA${i % 7}`;
    const signature = signed(alg, pair.privateKey, `${head}.${body}`);
    const forged = i % 5 === 1;
    // A forged item is signed with another key (ES256) or over other bytes (the others).
    const key = forged && alg === 'ES256' ? otherEc.publicKey : pair.publicKey;
    const data: PoolItem['data'] =
      i % 2 === 0 ? [head, forged && alg !== 'ES256' ? `${body}x` : body] : Buffer.from(`${head}.${body}`);
    if (forged && alg !== 'ES256' && data instanceof Uint8Array) data[0] = data[0]! ^ 1;
    items.push({ alg, key, data, signature });
    expected.push(!forged);
  }
  return { items, expected };
}

describe('createVerifyPool', () => {
  const pool = createVerifyPool(2);
  afterAll(() => pool.close());

  it('answers each signature of a batch in order, the batch split over at most its threads', async () => {
    const { items, expected } = mixedItems(300);
    expect(expected.filter((e) => !e).length).toBe(60);
    expect(new Set(items.filter((_, i) => !expected[i]).map((item) => item.alg)).size).toBe(3);
    expect(await pool.verify(items)).toEqual(expected);
    expect(pool.workers().length).toBe(2);
    // Several batches at once share the same two workers.
    const batches = [mixedItems(90), mixedItems(7), mixedItems(150)];
    const answers = await Promise.all(batches.map((b) => pool.verify(b.items)));
    expect(answers).toEqual(batches.map((b) => b.expected));
    expect(pool.workers().length).toBe(2);
    expect(await pool.verify([])).toEqual([]);
  });

  it('a worker that dies fails its batch with a retryable NOT_READY, never a verdict, and is replaced', async () => {
    const single = createVerifyPool(1);
    try {
      const { items, expected } = mixedItems(600);
      const held = single.verify(items);
      const [worker] = single.workers();
      expect(worker).toBeDefined();
      await worker!.terminate();
      const error = await held.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).code).toBe('NOT_READY');
      expect((error as GatewayError).status).toBe(503);
      expect((error as GatewayError).retryAfterSeconds).toBe(1);
      // The slot is filled again by the next batch, which is judged as usual.
      expect(single.workers()).toEqual([]);
      expect(await single.verify(items)).toEqual(expected);
      expect(single.workers().length).toBe(1);
      expect(single.workers()[0]).not.toBe(worker);
    } finally {
      await single.close();
    }
  });

  it('refuses an answer deadline that is not a whole number of milliseconds', () => {
    expect(() => createVerifyPool(1, { answerDeadlineMs: 0 })).toThrow(RangeError);
    expect(() => createVerifyPool(1, { answerDeadlineMs: 0.5 })).toThrow(RangeError);
    expect(() => createVerifyPool(1, { startDeadlineMs: 0 })).toThrow(RangeError);
  });

  it('warm starts every worker before the first batch, and no more', async () => {
    const warmed = createVerifyPool(3);
    try {
      expect(warmed.workers().length).toBe(0);
      warmed.warm();
      expect(warmed.workers().length).toBe(3);
      warmed.warm();
      expect(warmed.workers().length).toBe(3);
      const { items, expected } = mixedItems(200);
      expect(await warmed.verify(items)).toEqual(expected);
      expect(warmed.workers().length).toBe(3);
    } finally {
      await warmed.close();
    }
  });

  it('refuses a size outside 1 to 256', () => {
    expect(() => createVerifyPool(0)).toThrow(RangeError);
    expect(() => createVerifyPool(257)).toThrow(RangeError);
    expect(() => createVerifyPool(1.5)).toThrow(RangeError);
  });
});

/** The error `work` rejects with; fails the test when it resolves. */
async function refusal(work: Promise<unknown>): Promise<GatewayError> {
  const outcome = await work.then(
    (verdicts) => ({ verdicts }),
    (error: unknown) => ({ error }),
  );
  expect(outcome).not.toHaveProperty('verdicts');
  const { error } = outcome as { error: unknown };
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

describe('a broken worker', () => {
  const FAULTY = new URL('../support/verify-worker-faulty.ts', import.meta.url);
  const DEADLINE_MS = 200;

  it('silent past the deadline: its part is answered NOT_READY, it is terminated and replaced', async () => {
    const pool = createVerifyPool(1, { answerDeadlineMs: DEADLINE_MS, workerUrl: FAULTY });
    try {
      // The stand-in answers as the real worker does until its cue.
      const before = mixedItems(40);
      expect(await pool.verify(before.items)).toEqual(before.expected);
      const [silent] = pool.workers();
      const exited = new Promise<number>((resolve) => silent!.once('exit', resolve));
      const sent = Date.now();
      const error = await refusal(pool.verify(mixedItems(SILENT_COUNT).items));
      expect(Date.now() - sent).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
      expect(error.code).toBe('NOT_READY');
      expect(error.status).toBe(503);
      expect(error.retryAfterSeconds).toBe(1);
      expect(error.message).toMatch(/no answer in 0\.2 s/);
      await exited;
      expect(pool.workers()).toEqual([]);
      // Later batches go to a new worker and are judged as usual, the slower start included.
      const after = mixedItems(100);
      expect(await pool.verify(after.items)).toEqual(after.expected);
      expect(pool.workers()).toHaveLength(1);
      expect(pool.workers()[0]).not.toBe(silent);
    } finally {
      await pool.close();
    }
  });

  it('never saying it listens: its part is answered NOT_READY at the start deadline', async () => {
    const MUTE = new URL('../support/verify-worker-mute.ts', import.meta.url);
    const pool = createVerifyPool(1, { startDeadlineMs: DEADLINE_MS, workerUrl: MUTE });
    try {
      const [stuck] = [pool.verify(mixedItems(3).items)];
      const [worker] = pool.workers();
      const exited = new Promise<number>((resolve) => worker!.once('exit', resolve));
      const error = await refusal(stuck);
      expect(error.code).toBe('NOT_READY');
      expect(error.message).toMatch(/not started in 0\.2 s/);
      await exited;
      expect(pool.workers()).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('answering a verdict too few: its part is answered NOT_READY, and it is replaced', async () => {
    const pool = createVerifyPool(1, { answerDeadlineMs: DEADLINE_MS, workerUrl: FAULTY });
    try {
      const error = await refusal(pool.verify(mixedItems(SHORT_COUNT).items));
      expect(error.code).toBe('NOT_READY');
      expect(error.message).toMatch(/an answer of the wrong length/);
      expect(pool.workers()).toEqual([]);
      const after = mixedItems(SHORT_COUNT + 1);
      expect(await pool.verify(after.items)).toEqual(after.expected);
    } finally {
      await pool.close();
    }
  });
});

/** What a module run in a process of its own prints; throws if the process does not end within a minute. */
function runModule(script: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '' },
    encoding: 'utf8',
    timeout: 60_000,
  }).trim();
}

describe('the shared pool', () => {
  it('never keeps a process alive once its verifications are answered', () => {
    const script = `
      import { generateKeyPairSync, sign } from 'node:crypto';
      import { verifySignatureBytes } from './src/crypto/jws-verify.ts';
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const data = Buffer.from('a.b');
      const signature = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      console.log(JSON.stringify(await verifySignatureBytes('ES256', publicKey, data, signature)));`;
    expect(runModule(script)).toBe('true');
  });

  it('never keeps a process alive with workers started ahead and never used', () => {
    const script = `
      import { verifyPool } from './src/crypto/verify-pool.ts';
      verifyPool().warm();
      console.log(verifyPool().workers().length > 0);`;
    expect(runModule(script)).toBe('true');
  });
});
