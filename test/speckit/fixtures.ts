import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBlocks, type Block } from '../../src/speckit/markdown.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'speckit');

/** A fixture's bytes, as the service reads a file. */
export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

/** The reference reading: one micromark parse of the whole document, every line whole. */
export const plain = (lines: string[]) => readBlocks(lines, { shorten: false, chunkChars: Infinity });

/** What callers read: setext heading text may come from a shortened line, and is never used (only ATX headings are phases). */
export function comparable(blocks: Block[]) {
  return blocks.map((block) => (block.kind === 'heading' && !block.atx ? { ...block, text: '' } : block));
}
