import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { atxContent, plainHeadingText } from '../../src/speckit/heading-text.js';
import { readHeadingTexts } from '../../src/speckit/micromark-piece.js';

// The direct reading of heading text must equal micromark's wherever it answers; where it cannot be sure
// it answers null. Generated headings are dense in emphasis runs, code spans, escapes and brackets.

const token = fc.constantFrom(
  '*', '**', '***', '_', '__', '___', '`', '``', '```', '\\', '\\*', '\\_', '\\`', '\\\\', '[', ']', '[P]', '![x]', '(', ')',
  ' ', ' ', '  ', '\t', 'a', 'b', 'foo', 'Phase 1', ':', '.', '!', '"', '-', '#', ' #', ' ##', '🎯', '準備', '\u00a0', '\u0000',
  '&', '&amp;', '<b>', '~', '](x)', 'www.x.io', 'a@b.io', '*a*', '_a_', '`b`', 'snake_case', '2*3*4', '\uD83C',
);
const content = fc.array(token, { maxLength: 24 }).map((parts) => parts.join(''));

describe('plainHeadingText', () => {
  test('equals micromark on generated heading lines wherever it answers (property)', () => {
    let answered = 0;
    fc.assert(
      fc.property(fc.constantFrom('# ', '## ', '###\t', '######  '), content, fc.boolean(), (opening, text, defined) => {
        const line = opening + text;
        const direct = plainHeadingText(atxContent(line), defined);
        if (direct === null) return;
        answered++;
        expect(direct).toBe(readHeadingTexts([line], defined ? ['[zz]: x'] : [])[0]);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS) || 3000 },
    );
    expect(answered).toBeGreaterThan(1000);
  });

  test.each([
    ['## Phase 1 *a* `b` [c]', 'Phase 1 a `b` [c]'],
    ['## Format: `[ID]` **bold** ##', 'Format: `[ID]` bold'],
    ['### foo \\###', 'foo ###'],
    ['## foo #\\##', 'foo ###'],
    ['# #', ''],
    ['## `` a`b ``', '`a`b`'],
    ['## *a **b** c*', 'a b c'],
    ['## foo*bar*', 'foobar'],
    ['## foo_bar_', 'foo_bar_'],
  ])('%s reads as %s', (line, text) => {
    expect(plainHeadingText(atxContent(line), false)).toBe(text);
    expect(readHeadingTexts([line])[0]).toBe(text);
  });

  test('long runs inside a heading (of `#`, spaces, markers) are read in linear time', () => {
    const started = performance.now();
    expect(atxContent(`## a ${'#'.repeat(1_000_000)}b`)).toHaveLength(1_000_003);
    expect(atxContent(`## a${' '.repeat(1_000_000)}b ##`)).toHaveLength(1_000_002);
    expect(plainHeadingText(`a${' '.repeat(1_000_000)}*b*${'`'.repeat(1000)}`, false)).toBe('a b' + '`'.repeat(1000));
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test('leaves references to micromark when the document has definitions, and HTML, entities, links always', () => {
    expect(plainHeadingText('Phase 1 [P]', true)).toBeNull();
    for (const text of ['a <b>', 'Fish &amp; chips', 'a ~~b~~', '[a](b)', 'see www.x.io', 'a@b.io', 'https://x.io']) {
      expect(plainHeadingText(text, false)).toBeNull();
    }
  });
});
