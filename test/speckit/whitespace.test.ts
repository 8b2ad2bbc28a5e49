import fc from 'fast-check';
import { expect, test } from 'vitest';
import { collapseWhitespace, trimSpacesEnd } from '../../src/speckit/whitespace.js';

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

test('trimSpacesEnd drops the spaces and tabs at the end only, in linear time (property)', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\u00a0', 'a') }), (value) => {
      expect(trimSpacesEnd(value)).toBe(value.replace(/[ \t]+$/, ''));
    }),
    { numRuns: 2000 },
  );
  const started = performance.now();
  expect(trimSpacesEnd(`a${' '.repeat(1_000_000)}b  `)).toHaveLength(1_000_002);
  expect(performance.now() - started).toBeLessThan(1000);
});
