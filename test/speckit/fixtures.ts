import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'speckit');

/** A fixture's bytes, as the service reads a file. */
export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}
