import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { atxContent, definedLabels, plainHeadingText } from '../../src/speckit/heading-text.js';
import { readHeadingTexts } from '../../src/speckit/micromark-piece.js';

// The direct reading of heading text must equal micromark's wherever it answers; where it cannot be sure
// it answers null. Generated headings are dense in emphasis runs, code spans, escapes and brackets.

const token = fc.constantFrom(
  '*', '**', '***', '_', '__', '___', '`', '``', '```', '\\', '\\*', '\\_', '\\`', '\\\\', '[', ']', '[P]', '![x]', '(', ')',
  ' ', ' ', '  ', '\t', 'a', 'b', 'foo', 'Phase 1', ':', '.', '!', '"', '-', '#', ' #', ' ##', '🎯', '準備', '\u00a0', '\u0000',
  '&', '&amp;', '<b>', '~', '](x)', 'www.x.io', 'a@b.io', '*a*', '_a_', '`b`', 'snake_case', '2*3*4', '\uD83C', '[^1]', '[^N]', '[p][]', '[a][P]', '[x]', '[A  b]', '[\\]]',
  '&amp;', '&lt;', '&#42;', '&#x2A;', '&#0;', '&#1114112;', '&#xD800;', '&#65535;', '&#128;', '&#9;', '&copy', '&foo;', '&AMP;', '&nbsp;', '&mdash;', '&#x1F3AF;', '&#12345678;', '&amp',
);
const content = fc.array(token, { maxLength: 24 }).map((parts) => parts.join(''));
/** Definition lines as micromark-piece.ts writes them; the tokens name some of these labels and not others. */
const definitions = fc.constantFrom([], ['[zz]: x'], ['[p]: x'], ['[^1]: x', '[x]: x'], ['[a b]: x', '[^n]: x']);

describe('plainHeadingText', () => {
  test('equals micromark on generated heading lines wherever it answers (property)', () => {
    let answered = 0;
    fc.assert(
      fc.property(fc.constantFrom('# ', '## ', '###\t', '######  '), content, definitions, (opening, text, defined) => {
        const line = opening + text;
        const direct = plainHeadingText(atxContent(line), definedLabels(defined));
        if (direct === null) return;
        answered++;
        expect(direct).toBe(readHeadingTexts([line], defined)[0]);
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
    expect(plainHeadingText(atxContent(line), new Set())).toBe(text);
    expect(readHeadingTexts([line])[0]).toBe(text);
  });

  test('long runs inside a heading (of `#`, spaces, markers) are read in linear time', () => {
    const started = performance.now();
    expect(atxContent(`## a ${'#'.repeat(1_000_000)}b`)).toHaveLength(1_000_003);
    expect(atxContent(`## a${' '.repeat(1_000_000)}b ##`)).toHaveLength(1_000_002);
    expect(plainHeadingText(`a${' '.repeat(1_000_000)}*b*${'`'.repeat(1000)}`, new Set())).toBe('a b' + '`'.repeat(1000));
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test('leaves references to defined labels to micromark, and HTML, rare named entities, links always', () => {
    const labels = definedLabels(['[p]: x', '[^n]: x']);
    expect(plainHeadingText('Phase 1 [P]', labels)).toBeNull();
    expect(plainHeadingText('Phase 1 [a][ p ]', labels)).toBeNull();
    expect(plainHeadingText('Phase 1 [^N]', labels)).toBeNull();
    expect(plainHeadingText('Phase 1 [Q] *a* [^p]', labels)).toBe('Phase 1 [Q] a [^p]');
    for (const text of ['a <b>', 'Fish &eacute; chips', 'a ~~b~~', '[a](b)', 'see www.x.io', 'a@b.io', 'https://x.io']) {
      expect(plainHeadingText(text, new Set())).toBeNull();
    }
  });
});
