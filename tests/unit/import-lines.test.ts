/**
 * The framing of register imports, away from HTTP: lines split the same whatever the chunking of the body,
 * CSV records framed by their quotes, and the name-based decision ids against RFC 9562's own example.
 */
import { describe, expect, it } from 'vitest';
import { csvLines } from '../../src/register-import/csv.ts';
import { nameBasedUuid } from '../../src/register-import/importer.ts';
import { jsonLines } from '../../src/register-import/jsonl.ts';
import { type PhysicalLine, splitLines } from '../../src/register-import/lines.ts';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The same bytes cut into chunks of every size from 1 to the whole. */
function chunkings(text: string): Buffer[][] {
  const bytes = Buffer.from(text, 'utf8');
  return Array.from({ length: bytes.length }, (_, i) => {
    const size = i + 1;
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
    return chunks;
  });
}

const plain = (lines: PhysicalLine[]) => lines.map((l) => [l.line, l.bytes.toString('utf8'), l.tooLong]);

describe('splitLines', () => {
  it('splits at LF, drops a CR before it, keeps a last line without LF, whatever the chunking', async () => {
    const text = 'a\r\nbé\n\nc€\r\nlast';
    for (const chunks of chunkings(text)) {
      expect(plain(await collect(splitLines(chunks, 64)))).toEqual([
        [1, 'a', false],
        [2, 'bé', false],
        [3, '', false],
        [4, 'c€', false],
        [5, 'last', false],
      ]);
    }
  });

  it('reports a line over the limit as too long and goes on with the next', async () => {
    for (const chunks of chunkings('12345\n123456\n1234567890\nok\n')) {
      expect(plain(await collect(splitLines(chunks, 6)))).toEqual([
        [1, '12345', false],
        [2, '123456', false],
        [3, '', true],
        [4, 'ok', false],
      ]);
    }
  });
});

describe('jsonLines', () => {
  it('skips blank lines, ignores a leading BOM, and reads each line strictly', async () => {
    const text = '\ufeff{"a":1}\n  \n{"a":1,"a":2}\n[1]\n';
    const lines = await collect(jsonLines([Buffer.from(text, 'utf8')]));
    expect(lines).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 3, code: 'LINE_MALFORMED', detail: expect.stringMatching(/duplicate/) },
      { line: 4, code: 'LINE_MALFORMED', detail: expect.stringMatching(/not an object|object/) },
    ]);
  });
});

describe('csvLines', () => {
  it('frames records by their quotes, whatever the chunking', async () => {
    const text = 'aeoId,decision,name\r\nPE001,amend,"two\r\nlines, ""quoted"""\r\nPE002,suspend,\r\n';
    for (const chunks of chunkings(text)) {
      expect(await collect(csvLines(chunks))).toEqual([
        {
          line: 2,
          value: {
            aeoId: 'PE001',
            decision: 'amend',
            operator: { identifiers: [], name: 'two\nlines, "quoted"', address: {} },
          },
        },
        { line: 4, value: { aeoId: 'PE002', decision: 'suspend' } },
      ]);
    }
  });

  it('confines a malformed record to its own lines', async () => {
    const text = 'aeoId,decision\nPE001,"bad"x\nPE002,suspend\n"PE003,never closed\nPE004,suspend\n';
    const lines = await collect(csvLines([Buffer.from(text)]));
    expect(lines.map((l) => ('code' in l ? [l.line, l.code] : [l.line, l.value.aeoId]))).toEqual([
      [2, 'LINE_MALFORMED'],
      [3, 'PE002'],
      [4, 'LINE_MALFORMED'],
    ]);
  });

  it('refuses invalid UTF-8 in a record, not the file', async () => {
    const bytes = Buffer.concat([
      Buffer.from('aeoId,decision\nPE\xff'),
      Buffer.from([0xff]),
      Buffer.from(',suspend\nPE002,suspend\n'),
    ]);
    const lines = await collect(csvLines([bytes]));
    expect(lines).toEqual([
      { line: 2, code: 'LINE_MALFORMED', detail: 'the record is not valid UTF-8' },
      { line: 3, value: { aeoId: 'PE002', decision: 'suspend' } },
    ]);
  });
});

describe('nameBasedUuid', () => {
  it('is UUID version 5 of RFC 9562 (its example: the DNS namespace and www.example.com)', () => {
    expect(nameBasedUuid('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });
});
