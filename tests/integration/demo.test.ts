import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo.ts';

// The README's first command runs this demo: it must keep working end to end.
const dir = mkdtempSync(join(tmpdir(), 'mra-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo exchange', () => {
  it('exchanges decisions both ways with receipts, reconciles, and shows the protocol edges', async () => {
    const lines: string[] = [];
    const { ok } = await runDemo({ dir, keepRunning: false, print: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(ok, text).toBe(true);
    expect(text).toContain('PE → CL: pushed and applied');
    expect(text).toContain('CL → PE: pushed and applied');
    expect(text).toMatch(/PE keeps [1-9]\d* signed receipts from CL; 4 deliveries confirmed/);
    expect(text).toMatch(/CL keeps [1-9]\d* signed receipts from PE; 4 deliveries confirmed/);
    expect(text).toContain("CL reconciles with PE's snapshot: in sync (3 operators)");
    expect(text).toContain('duplicate, duplicate, duplicate');
    expect(text).toContain('rejected SIGNATURE_INVALID');
    expect(text).toContain('demo exchange: OK');
  }, 60_000);
});
