/** A read model snapshot's bytes with its header edited, as a writer of the snapshot table could. */
import { type Header, MAGIC, PRELUDE, pad, SECTIONS } from '../../src/lookup/snapshot-codec.ts';

/** `bytes` (an encoded snapshot) with its header stating `lengths` (bytes, by column), the columns unchanged. */
export function withLengths(bytes: Uint8Array, lengths: Record<string, number>): Buffer {
  const b = Buffer.from(bytes);
  const headLength = b.readUInt32LE(MAGIC.length);
  const header = JSON.parse(b.toString('utf8', PRELUDE, PRELUDE + headLength)) as Header;
  for (const [name, length] of Object.entries(lengths)) {
    const at = SECTIONS.findIndex(([n]) => n === name);
    if (at < 0) throw new Error(`no column ${name}`);
    header.lengths[at] = length;
  }
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const first = Buffer.alloc(pad(PRELUDE + head.length));
  b.copy(first, 0, 0, PRELUDE);
  first.writeUInt32LE(head.length, MAGIC.length);
  head.copy(first, PRELUDE);
  return Buffer.concat([first, b.subarray(pad(PRELUDE + headLength))]);
}
