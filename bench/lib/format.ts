/** A whole number with thousands separators: 12,345. */
export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
