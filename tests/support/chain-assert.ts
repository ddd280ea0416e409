/** Shared assertions of the chain tests: run a test PKI through validateChain, expect an exact failure. */
import { expect } from 'vitest';
import { validateChain } from '../../src/crypto/chain.ts';
import type { CheckResult } from '../../src/crypto/types.ts';
import type { RecordRejectionCode } from '../../src/errors.ts';
import { NOW, type TestPki, trustStoreOf } from './pki.ts';

export function check(pki: TestPki, at = NOW, store = trustStoreOf(pki.anchors)) {
  return validateChain(pki.chainDer, store, at);
}

export function expectFailure(result: CheckResult<unknown>, code: RecordRejectionCode, detail: RegExp): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code).toBe(code);
  expect(result.detail).toMatch(detail);
}
