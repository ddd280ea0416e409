/**
 * PostgreSQL's class 22, "data exception": a statement met a value it cannot hold (a date out of range, a
 * number too large). The schemas are meant to refuse such values first; this tells the one value's fault apart
 * from the store's, for callers that can then set that item aside instead of failing everything.
 */
export function isDataException(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code);
}
