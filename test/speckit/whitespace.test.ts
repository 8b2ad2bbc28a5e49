import fc from 'fast-check';
import { expect, test } from 'vitest';
import { collapseWhitespace } from '../../src/speckit/whitespace.js';

test('collapseWhitespace is `\\s+` → one space, trimmed, for any text (property)', () => {
  const spacey = fc.string({ unit: fc.constantFrom(' ', ' ', '\t', '\n', '\r', '\u00a0', '\u2028', '\u3000', '\ufeff', 'a', 'b', '準') });
  for (const text of [fc.string({ unit: 'binary' }), spacey]) {
    fc.assert(
      fc.property(text, (value) => {
        expect(collapseWhitespace(value)).toBe(value.replace(/\s+/g, ' ').trim());
      }),
      { numRuns: 2000 },
    );
  }
  expect(collapseWhitespace('  T007   spaced\n   over lines  ')).toBe('T007 spaced over lines');
});
