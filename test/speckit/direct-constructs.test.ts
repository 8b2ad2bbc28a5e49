import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { cutPoints, readBlocks, type Block } from '../../src/speckit/markdown.js';
import { readSimpleRegions } from '../../src/speckit/simple-region.js';
import { comparable, plain } from './fixtures.js';

// The constructs the direct reader reads besides checkbox items (setext headings, ordered items, tables,
// link and footnote definitions, headings with inline markup), generated densely among the lines that
// change their meaning (block quotes, indentation, lazy lines, underlines after definitions, tables of
// the wrong width), must read as one micromark parse of the whole file reads them.

const RUNS = Number(process.env.PROPERTY_RUNS) || 1500;
/** Many runs (PROPERTY_RUNS=20000) take minutes on a shared machine. */
const TIMEOUT_MS = Math.max(60_000, RUNS * 20);


const pick = (...values: string[]) => fc.constantFrom(...values);
const prose = pick(
  'Title',
  'Title *em* and `code`',
  'a_b_ **T001** [P]',
  'see [x][] and [P]',
  'word\\',
  'trailing  ',
  '*a',
  'b*',
  '**a',
  '_c_',
  '`x` y',
  '`open',
  'close` *x',
  '``two',
  'Phase 1: *Setup*',
  '2024 plan',
  '3.5 release',
  '42',
  '10) not',
  '準備 🎯',
  'www.x.io',
  '| x | y |',
);
const underline = pick('===', '---', '  ==', '-', '- ', '= =', '--- -', '***', '===  ', '   -', '    ---', '\t===');
const setext = fc.tuple(fc.array(prose, { minLength: 1, maxLength: 3 }), underline).map(([text, rule]) => [...text, rule]);
const ordered = fc
  .tuple(
    pick('', '', '', ' ', '  ', '   ', '    ', '\t'),
    pick('1.', '1)', '2.', '2)', '10.', '01.', '123456789.', '1234567890.'),
    pick(' ', ' ', ' ', '  ', '\t', ''),
    pick('[ ] T001 a', '[x] T002 b', '[-] T003', 'plain text', '**T004** x', '- [ ] T005 nested bullet', '2. nested', ''),
  )
  .map((parts) => [parts.join('')]);
const bullet = fc
  .tuple(pick('', '', ' ', '  ', '   ', '    ', '      '), pick('-', '*', '+'), pick('[ ] T010 a', '[x] T011 b', 'word', '**T012** c'))
  .map(([indent, marker, text]) => [`${indent}${marker} ${text}`]);
const quoteLine = pick(
  '> - [ ] T020 quoted',
  '> - [x] T021 done',
  '> text',
  '>- a',
  '> > b',
  '  > c',
  '> 1. [ ] T022',
  '> 2. [ ] T023',
  '>',
  '> ---',
  '>   - [ ] T024 nested',
  '>     more',
  '>       deeper',
  '> > - [ ] T025',
  '>  - x',
  '> # heading',
  '> ## Phase 2 *quoted*',
  '>   ### in an item',
  '>#x',
  '> ## a <b>',
  '> | a |',
  '>\t- tab',
  'lazy text',
  '  lazy indented',
  '- [ ] T026 after',
  '2. after',
);
const quote = fc.array(quoteLine, { minLength: 1, maxLength: 6 });
const table = fc
  .tuple(
    pick('| a | b |', '|a|b|', '| a |', '| a \\| b |', '| `a|b` | c |', 'a | b', '| |', '||'),
    pick('|---|---|', '| - | - |', '|:-:|--:|', '| - |', '|-|', '---|---', '| x | y |', '| -- | :- |'),
    fc.array(pick('| x | y |', '| 1 |', '|', 'x | y', '- [ ] T030 after a table', '2. ordered', '', '| - [ ] T031 |'), { maxLength: 3 }),
  )
  .map(([head, rule, rows]) => [head, rule, ...rows]);
const definition = pick(
  '[P]: https://x.io',
  '[p]:/u "title"',
  "[x y]: /u 'title'",
  '[c]: /u (title)',
  '[x]: <y>',
  '[x]: /u trailing',
  '[^1]: note',
  '[^n]: - [ ] T040 in a note',
  '[^a b]: x',
  '[^1]:',
  '[P\\]]: /u',
  '[ ]: /u',
  '"title"',
  '(title)',
  '[P]',
  '[^1]',
  '    indented under a note',
).map((line) => [line]);
const heading = fc
  .tuple(
    pick('#', '##', '###', '####'),
    pick(' ', ' ', '\t'),
    pick('Phase 1 *a* `b` [c]', 'Phase 2: [P] linked', 'Phase 3 [^1]', 'Phase 4 **bold** ##', '*Phase 5*', 'Phase 6 `x` \\*', 'Phase 7 _a_b_', 'Notes &amp; more', 'Phase 8 <b>x</b>', 'Phase 9 ~~x~~'),
  )
  .map((parts) => ['', parts.join('')]);
const task = pick('- [ ] T050 open', '- [x] T051 done', '  - [ ] T052 child', '1. [ ] T053 ordered', '* [X] T054', '-', '- ', '2.', '  *', '-\t').map((line) => [line]);
const blank = pick('', '', '  ').map((line) => [line]);
/** HTML comment blocks, the kind Spec Kit's template holds: closed on their line or later, across blank lines, or never. */
const comment = fc
  .tuple(
    pick('<!--', '<!-- note -->', '<!-->', '<!--->', '<!-- a', '<!--x-->y', ' <!-- indented', '<!-- - [ ] T070 hidden'),
    fc.array(pick('', '- [ ] T071 inside', '## Phase 9 inside', 'text', '  -->', '-->', '--> after', '- ->', '```'), { maxLength: 4 }),
  )
  .map(([open, rest]) => [open, ...rest]);
const fragment = fc.oneof(
  { arbitrary: setext, weight: 3 },
  { arbitrary: ordered, weight: 3 },
  { arbitrary: bullet, weight: 2 },
  { arbitrary: quote, weight: 3 },
  { arbitrary: table, weight: 2 },
  { arbitrary: definition, weight: 2 },
  { arbitrary: heading, weight: 2 },
  { arbitrary: task, weight: 3 },
  { arbitrary: prose.map((line) => [line]), weight: 2 },
  { arbitrary: blank, weight: 4 },
  { arbitrary: comment, weight: 2 },
);
// The same constructs in the forms the reader takes, so that long stretches are read directly and the
// rare line above lands among them.
const wellFormed = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.array(pick('Title', 'Title *em* `code`', 'a_b_ **T001**', 'word\\', 'x  ', '`open', 'close` y', '*a', 'b*', '| x |'), { minLength: 1, maxLength: 3 }), pick('===', '---', '-', '  =='))
      .map(([text, rule]) => [...text, rule]),
    weight: 3,
  },
  { arbitrary: fc.tuple(pick('', '  ', '   '), pick('1.', '1)', '2.', '10)'), pick('[ ] T001 a', '[x] T002', 'text')).map(([indent, marker, text]) => [`${indent}${marker} ${text}`]), weight: 3 },
  { arbitrary: fc.tuple(pick('| a | b |', '|a|b|', '| `a` | *b* |'), pick('|---|---|', '|:-:|--:|'), fc.array(pick('| x | y |', '| 1 |', '|'), { maxLength: 3 })).map(([head, rule, rows]) => [head, rule, ...rows, '']), weight: 2 },
  { arbitrary: fc.array(pick('| x | y |', '| x |', 'Title', '|-|-|', '| - |', '===', '---', '| a | b |'), { minLength: 1, maxLength: 6 }), weight: 2 },
  { arbitrary: pick('[P]: https://x.io', '[p]:/u "title"', '[^1]: note', '[^N]: Note *x*', '[Q]: /q (t)').map((line) => [line]), weight: 2 },
  { arbitrary: heading, weight: 2 },
  {
    arbitrary: fc
      .array(pick('> - [ ] T060 a', '> - [x] T061', '>   - [ ] T062 nested', '> text', 'lazy', '>', '> > b', '> 1. [ ] T063', '> ## Phase 3 in a quote', '>   # in an item'), { minLength: 1, maxLength: 10 })
      .map((lines) => ['> - [ ] T064 first', ...lines]),
    weight: 3,
  },
  { arbitrary: task, weight: 4 },
  { arbitrary: blank, weight: 5 },
  { arbitrary: fc.tuple(pick('<!--', '<!-- x'), fc.array(pick('', 'text', '- [ ] T072'), { maxLength: 3 }), pick('-->', 'end -->')).map(([a, b, c]) => [a, ...b, c]), weight: 2 },
  { arbitrary: fragment, weight: 1 },
);
const document = fc.oneof(
  fc.array(fragment, { minLength: 1, maxLength: 25 }),
  fc.array(wellFormed, { minLength: 1, maxLength: 30 }),
).map((fragments) => fragments.flat());

// Lines of Markdown-shaped noise: markers, indentation, pipes, brackets and underlines in any order.
const noise = fc
  .array(
    pick('>', '> ', ' ', '  ', '\t', '-', '- ', '* ', '1. ', '2) ', '[ ] ', '[x] ', '|', ' | ', '---', '===', '#', '## ', '`', '*', '_', 'a', 'Word ', '[^1]: ', '[a]: /u', '"t"', '\\', '<!--', '-->', '\n', '\n', '\n', '\n\n'),
    { maxLength: 60 },
  )
  .map((parts) => parts.join('').split('\n'));

describe('constructs read directly give the blocks of a single micromark parse', () => {
  test('Markdown-shaped noise, read in the smallest pieces (property)', () => {
    fc.assert(
      fc.property(noise, (lines) => {
        // micromark's development build (which vitest loads) asserts on some of these (`*` then `[x] >`).
        let reference: Block[];
        try {
          reference = plain(lines);
        } catch {
          return;
        }
        expect(readBlocks(lines, { shorten: false, chunkChars: 1 })).toEqual(reference);
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);

  test('read in the smallest pieces, whole lines (property)', () => {
    fc.assert(
      fc.property(document, (lines) => {
        expect(readBlocks(lines, { shorten: false, chunkChars: 1 })).toEqual(plain(lines));
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);

  test('read with the defaults, as parseTasks reads (property)', () => {
    fc.assert(
      fc.property(document, (lines) => {
        expect(comparable(readBlocks(lines))).toEqual(comparable(plain(lines)));
        expect(readBlocks(lines, { shorten: false })).toEqual(plain(lines));
      }),
      { numRuns: RUNS },
    );
  }, TIMEOUT_MS);

  test('the generated documents do exercise it: many regions are read directly, setext headings, definitions, items in quotes and lazy lines among them', () => {
    let direct = 0;
    let regions = 0;
    let setext = 0;
    let defs = 0;
    let quotedItems = 0;
    let lazy = 0;
    for (const lines of fc.sample(document, { numRuns: 500, seed: 11 })) {
      const cuts = cutPoints(lines);
      for (let region = 0; region < cuts.length - 1; region++) {
        regions++;
        const r = readSimpleRegions(lines, cuts, region);
        if (r !== null) direct++;
        if (r) setext += r.blocks.filter((b) => b.kind === 'heading' && !b.atx).length;
        if (r) defs += r.definitions.length;
        if (r) quotedItems += r.blocks.filter((b) => b.kind === 'item' && lines[b.line - 1]!.trimStart().startsWith('>')).length;
        if (r) lazy += r.blocks.filter((b) => b.kind === 'item' && b.paragraph !== null && b.paragraph.endLine > b.line).length;
      }
    }
    expect(direct).toBeGreaterThan(regions / 3);
    expect(setext).toBeGreaterThan(50);
    expect(defs).toBeGreaterThan(20);
    expect(quotedItems).toBeGreaterThan(100);
    expect(lazy).toBeGreaterThan(20);
  });
});

describe('the cases CommonMark and GFM spell out', () => {
  test.each([
    ['a setext heading over two lines', ['Title', 'more *text*', '===']],
    ['`---` after a paragraph: a setext underline, not a break', ['Title', '---', '- [ ] T001 a']],
    ['an underline indented three spaces, and four (text)', ['Title', '   ---', '', 'Other', '    ---']],
    ['`===` after a definition-only paragraph: paragraph text', ['[P]: /x', '===', '- [ ] T001 a']],
    ['an ordered item not at 1 does not interrupt a paragraph', ['Text', '2. [ ] T001 a']],
    ['an ordered item at 1 does', ['Text', '1. [ ] T001 a', '2) [x] T002 b']],
    ['a 9-digit marker sets the content column, a 10-digit one is text', ['123456789. [ ] T001 a', '           - [ ] T002 b', '', '1234567890. [ ] T003']],
    ['a lazy line in a quoted item, then a sibling', ['> - [ ] T001 a', 'lazy', '> - [x] T002 b', '>   - [ ] T003 c']],
    ['a quote ended by a bullet, an ordered item after quoted text', ['> text', '- [ ] T001 a', '', '> text', '2. [ ] T002 b']],
    ['a table ended by a blank line, rows holding list markers', ['| a |', '| - |', '| - [ ] x |', '', '- [ ] T001 a']],
    ['a table interrupting a paragraph', ['Text', '| a | b |', '|---|---|', '| - [ ] x | y |']],
    ['a footnote, its lazy line, then items', ['[^1]: note', 'lazy', '- [ ] T001 a', '', '[^2]: b', '2. [ ] T002 c']],
    ['tabs after markers and in indentation', ['-\t[ ] T001 a', '1.\t[ ] T002 b', '\t- [ ] T003 c']],
    ['an empty item, an item starting with a blank line', ['-', '  - [ ] T001 a', '', '-', '', '  [ ] T002']],
    ['empty items closed by a blank line, then an item at their content column', ['-', '', '  - [ ] T001 a', '', '1.', '', '2.', '', '-   ', '', '   * [x] T002 b']],
    ['an empty item under paragraph text: an underline, or text', ['Title', '-', '', 'Text', '1.', '- [ ] T001 a', '-']],
    ['a heading whose text holds references once definitions are known', ['## Phase 1 [P] *a*', '- [ ] T001 a', '', '[P]: /x', '', 'Title [P]', '---']],
  ])('%s', (_, lines) => {
    expect(readBlocks(lines, { shorten: false, chunkChars: 1 })).toEqual(plain(lines));
    expect(comparable(readBlocks(lines))).toEqual(comparable(plain(lines)));
  });
});
