import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { cutPoints, readBlocks } from '../../src/speckit/markdown.js';
import { readSimpleRegions } from '../../src/speckit/simple-region.js';
import { parseTasks } from '../../src/speckit/index.js';
import { comparable, fixture, plain } from './fixtures.js';

// The reader of simple regions must give exactly what micromark gives for the whole document in one parse.
// Documents are generated from lines it reads (items at many indents, headings, prose, breaks, fences)
// mixed with every line that can change their meaning: lazy and indented continuations, setext
// underlines, HTML blocks, block quotes, tables, indented code, tabs, other list markers, unclosed fences.


const indent = fc.constantFrom('', '', '', '', ' ', '  ', '  ', '   ', '    ', '    ', '     ', '      ', '        ', '\t', '  \t');
const marker = fc.constantFrom('-', '-', '-', '*', '+', '1.', '2)');
const box = fc.constantFrom('[ ] ', '[x] ', '[X] ', '[-] ', '[~] ', '', '[ ]  ', '[\t] ', '[P] ', '[x]: ', '[ ]');
const text = fc.constantFrom(
  'T001 [P] [US1] Create x in src/x.ts',
  '**T002** bold id',
  '`T003` code id | pipe',
  '*em* then text',
  '_T004_ underscored',
  'Text with <b>html</b> and &amp; and \\* escapes',
  '準備 🎯 unicode',
  '🎯 emoji first',
  '2024 starts with digits',
  '1. nested ordered',
  '- nested bullet',
  '# heading inside',
  '> quote inside',
  '<div>',
  '```',
  '***',
  '* * *',
  '**',
  '',
  '\tTab first',
  'trailing spaces  ',
);
const item = fc.tuple(indent, marker, fc.constantFrom(' ', ' ', ' ', '  ', '\t'), box, text).map((parts) => parts.join(''));
const heading = fc
  .tuple(
    fc.constantFrom('#', '##', '###', '####', '######', '#######'),
    fc.constantFrom(' ', ' ', '\t', ''),
    fc.constantFrom(
      'Phase 1: Setup',
      'Phase 2 - Tests (Priority: P1) 🎯 MVP',
      'Format: `[ID] [P?]`',
      'Dependencies & Execution Order',
      'Fish &amp; chips',
      'Closing ##',
      'C# code',
      '*emphasis*',
      'snake_case',
      'a ~~struck~~ word',
      '[P] linked',
      'Phase\u00a03',
      'Phase 3 [x][P] full reference',
      'Phase 4 [P][] collapsed',
      'Phase 5 [^1] footnote',
      '',
      '  spaced   out  ',
    ),
  )
  .map((parts) => parts.join(''));
const other = fc.constantFrom(
  '',
  '',
  '',
  '   ',
  '\t',
  '**Goal**: An operator can do it.',
  'Prose line with `code` and a | pipe',
  'continuation text',
  '  indented continuation',
  '    indented code',
  '---',
  '***',
  '___',
  '- - -',
  '===',
  '  ---',
  '```',
  '```bash',
  '``` has `backtick',
  '~~~',
  '~~~ info `ok`',
  '````',
  '   ```',
  '    ```',
  '\t```',
  '```  ',
  '<details>',
  '</details>',
  '<!--',
  '-->',
  '> quoted prose',
  '> - [ ] quoted task',
  '| a | b |',
  '|---|---|',
  '[P]: https://example.com',
  '[p]: /lower-case',
  '[^1]: footnote',
  '    footnote continued',
  '*not a list',
  '_underscore start',
  '`code start`',
  '1. ordered',
  '10) ordered',
);
const line = fc.oneof({ arbitrary: item, weight: 6 }, { arbitrary: heading, weight: 2 }, { arbitrary: other, weight: 4 });

// Lines the reader accepts, so that long stretches of a document are read by it and the rare line above
// lands in the middle of them: right after an item, inside a fence, after prose.
const simpleItem = fc
  .tuple(
    fc.constantFrom('', '', '', ' ', '  ', '  ', '   ', '    ', '    ', '     ', '      ', '        ', '\t', '\t\t', ' \t', '  \t', '\t  '),
    fc.constantFrom('-', '-', '*', '+'),
    fc.constantFrom('[ ] ', '[x] ', '[X] ', '[-] ', '[~] ', ''),
    fc.constantFrom('T001 [P] [US1] Create x | y', '**T002** bold', '`T003` code', '*em*', '_T004_ x', 'Word <b>html</b> &amp;', '準備'),
  )
  .map(([spaces, bullet, check, words]) => `${spaces}${bullet} ${check}${words}`);
const simpleLine = fc.oneof(
  { arbitrary: simpleItem, weight: 8 },
  {
    arbitrary: fc.constantFrom('## Phase 1: Setup', '### Tests for User Story 2 (OPTIONAL) ⚠️', '# Tasks', '## Notes & more', '#', '## Format: `[ID]`', '# Tasks: [NAME]', '## A ##', '### *x* &amp; [P]'),
    weight: 2,
  },
  { arbitrary: fc.constantFrom('', '', '', '  '), weight: 4 },
  { arbitrary: fc.constantFrom('**Checkpoint**: done', 'Prose line', '*Note*: x', '`code` first', '---', '***', '```bash', '```', '~~~', '````'), weight: 3 },
);
// Any text after a line's opening (NUL, U+2028, lone surrogates, NBSP, markup…): what follows `- [ ] `,
// `## ` or a word decides nothing about the blocks, or makes the reader refuse.
const anyText = fc.string({ unit: 'binary', maxLength: 12 }).map((value) => value.replace(/[\r\n]/g, ''));
const openedLine = fc
  .tuple(fc.constantFrom('- [ ] ', '- [x] ', '  - [ ] ', '* [-] ', '- ', '- T', '## ', '# Phase 1', 'Prose ', '**Goal**', '```', '~~~ ', '   ```'), anyText)
  .map(([opening, rest]) => opening + rest);
const document = fc.oneof(
  fc.array(line, { minLength: 1, maxLength: 30 }),
  fc.array(fc.oneof({ arbitrary: simpleLine, weight: 20 }, { arbitrary: line, weight: 1 }), { minLength: 1, maxLength: 40 }),
  fc.array(fc.oneof({ arbitrary: simpleLine, weight: 6 }, { arbitrary: openedLine, weight: 4 }, { arbitrary: line, weight: 1 }), { minLength: 1, maxLength: 30 }),
);

describe('the simple reader gives the blocks of a single micromark parse', () => {
  test('generated documents, read in the smallest pieces, whole lines (property)', () => {
    fc.assert(
      fc.property(document, (lines) => {
        expect(readBlocks(lines, { shorten: false, chunkChars: 1 })).toEqual(plain(lines));
      }),
      { numRuns: 1500 },
    );
  });

  test('generated documents, read as parseTasks reads them (property)', () => {
    fc.assert(
      fc.property(document, (lines) => {
        expect(comparable(readBlocks(lines))).toEqual(comparable(plain(lines)));
      }),
      { numRuns: 1000 },
    );
  });

  test('the generated documents do exercise it: many hold a region it reads, many a region it refuses', () => {
    let read = 0;
    let refused = 0;
    const runs = fc.sample(document, { numRuns: 500, seed: 7 });
    for (const lines of runs) {
      const cuts = cutPoints(lines);
      const results = cuts.slice(0, -1).map((_, region) => readSimpleRegions(lines, cuts, region));
      if (results.some((r) => r !== null && r.blocks.length > 0)) read++;
      if (results.some((r) => r === null)) refused++;
    }
    expect(read).toBeGreaterThan(runs.length / 4);
    expect(refused).toBeGreaterThan(runs.length / 4);
  });

  test.each([
    ['indented code, then an ordered list not starting at 1', ['    code', '', '2) [ ] T001 a paragraph to micromark', '- [ ] T002']],
    ['indented code, then an empty item', ['## Phase 1', '    code', '', '-', '- [ ] T001']],
    ['an unclosed fence before simple lines', ['- [ ] T000', '', '```', '', '## Phase 1', '- [ ] T001 code']],
    ['an HTML block swallowing a heading', ['<details>', '## Phase 1', '- [ ] T001 html', '', '## Phase 2', '- [ ] T002']],
  ])('a piece ending in %s is not followed by a fresh start', (_, lines) => {
    expect(readBlocks(lines, { shorten: false, chunkChars: 1 })).toEqual(plain(lines));
    expect(comparable(readBlocks(lines))).toEqual(comparable(plain(lines)));
  });

  test.each([
    ['an item whose text starts with a reference on the next line', ['[P]: https://example.com', '', '- [ ] ', '[P]: https://example.com', '- [ ] T001 a']],
    ['a heading with a full and a collapsed reference', ['## Phase 1: [Setup][P] and [P][]', '- [ ] T001 a', '', '[p]: https://example.com']],
    ['a heading with a footnote defined after it', ['## Phase 1: Setup[^n]', '- [ ] T001 a', '', 'Text', '', '[^N]: the note']],
    ['a footnote definition before indented lines', ['[^1]: note', '', '    - [x] T009 in the note', '', '## Phase [x][]', '    code']],
  ])('definitions reach references in other pieces: %s', (_, lines) => {
    expect(readBlocks(lines, { shorten: false, chunkChars: 1 })).toEqual(plain(lines));
    expect(readBlocks(lines, { simple: false, chunkChars: 1 })).toEqual(plain(lines));
    expect(comparable(readBlocks(lines))).toEqual(comparable(plain(lines)));
  });

  test('every fixture, and each fixture with CRLF and lone CR endings', () => {
    for (const name of ['template.md', 'fences.md', 'nested.md', 'ids-and-letters.md', 'children.md', 'unicode.md', 'dropped.md', 'separators.md', 'examples.md']) {
      const text = fixture(name).toString('utf8');
      const lines = text.split('\n');
      expect(readBlocks(lines, { shorten: false, chunkChars: 1 }), name).toEqual(plain(lines));
      const parsed = parseTasks(text);
      expect(parseTasks(text.replace(/\n/g, '\r\n')), name).toEqual(parsed);
      expect(parseTasks(text.replace(/\n/g, '\r')), name).toEqual(parsed);
    }
  });
});

describe('what it reads and what it refuses', () => {
  const readAll = (lines: string[]) => readSimpleRegions(lines, cutPoints(lines), 0);

  test('checkbox items at every depth, with the text start GFM reports', () => {
    const lines = ['## Phase 1: Setup', '- [ ] T001 a', '  - [x] T002 b', '      - [X] T003 c', '    * [-] T004 d', '+ Plain bullet', ''];
    expect(readAll(lines)).toEqual({
      next: 1,
      inline: [],
      definitions: [],
      definitionLine: 0,
      blocks: [
        { kind: 'heading', line: 1, level: 2, atx: true, text: 'Phase 1: Setup' },
        { kind: 'item', line: 2, depth: 0, checked: false, paragraph: { line: 2, index: 6, endLine: 2 } },
        { kind: 'item', line: 3, depth: 1, checked: true, paragraph: { line: 3, index: 8, endLine: 3 } },
        { kind: 'item', line: 4, depth: 2, checked: true, paragraph: { line: 4, index: 12, endLine: 4 } },
        // Four spaces reach the content of T002 (column 4), not that of T003 (column 8).
        { kind: 'item', line: 5, depth: 2, checked: null, paragraph: { line: 5, index: 6, endLine: 5 } },
        { kind: 'item', line: 6, depth: 0, checked: null, paragraph: { line: 6, index: 2, endLine: 6 } },
      ],
    });
    expect(readBlocks(lines, { shorten: false, chunkChars: 1 })).toEqual(plain(lines));
  });

  test('fenced code is read past the cuts inside it, and reading goes on over the regions after it', () => {
    const lines = ['```bash', '# Phase 9: not a heading', '', '- [ ] not a task', '```', '', '- [ ] T001 real', '', '## Phase 2'];
    const cuts = cutPoints(lines);
    expect(cuts).toEqual([0, 1, 3, 6, 8, 9]);
    expect(readSimpleRegions(lines, cuts, 0)).toEqual({
      next: 5,
      blocks: [
        { kind: 'item', line: 7, depth: 0, checked: false, paragraph: { line: 7, index: 6, endLine: 7 } },
        { kind: 'heading', line: 9, level: 2, atx: true, text: 'Phase 2' },
      ],
      inline: [],
      definitions: [],
      definitionLine: 0,
    });
    expect(readBlocks(lines, { shorten: false, chunkChars: 1 })).toEqual(plain(lines));
  });

  test('an HTML comment at column 0 (as in Spec Kit\'s template) is read past the cuts inside it, ending at the line holding -->', () => {
    const lines = ['- [ ] T001 a', '<!--', '  IMPORTANT: sample tasks', '', '- [ ] T002 hidden', '## Phase 9 hidden', '-->', '', '<!-- one line -->', '- [ ] T003 b', '<!-->', '- [ ] T004 c'];
    expect(readAll(lines)).toEqual({
      next: cutPoints(lines).length - 1,
      blocks: [
        { kind: 'item', line: 1, depth: 0, checked: false, paragraph: { line: 1, index: 6, endLine: 1 } },
        { kind: 'item', line: 10, depth: 0, checked: false, paragraph: { line: 10, index: 6, endLine: 10 } },
        { kind: 'item', line: 12, depth: 0, checked: false, paragraph: { line: 12, index: 6, endLine: 12 } },
      ],
      inline: [],
      definitions: [],
      definitionLine: 0,
    });
    expect(readBlocks(lines, { shorten: false, chunkChars: 1 })).toEqual(plain(lines));
  });

  test('tab-indented children, tabs stopping every four columns', () => {
    const lines = ['- [ ] T001 a', '\t- [ ] T002 b', '\t\t- [x] T003 c', '  \t- [ ] T004 d', '\t  - [ ] T005 e'];
    const reading = readAll(lines);
    expect(reading?.blocks.map((block) => (block.kind === 'item' ? [block.depth, block.paragraph?.index] : null))).toEqual([
      [0, 6],
      [1, 7],
      [2, 8],
      [1, 9],
      [2, 9],
    ]);
    expect(readBlocks(lines, { shorten: false, chunkChars: 1 })).toEqual(plain(lines));
  });

  test('a heading whose text needs inline parsing is read, its text read afterwards', () => {
    const lines = ['## Format: `[ID]` &amp; **bold** ##', '- [ ] T001 a', '', '## Phase 1 ##', '', '# Tasks: [FEATURE NAME]'];
    const cuts = cutPoints(lines);
    const first = readSimpleRegions(lines, cuts, 0);
    expect(first?.inline.map((heading) => heading.line)).toEqual([1, 4, 6]);
    expect(first?.blocks).toHaveLength(4);
    const blocks = readBlocks(lines, { shorten: false, chunkChars: 1 });
    expect(blocks.filter((block) => block.kind === 'heading').map((block) => block.text)).toEqual([
      'Format: `[ID]` & bold',
      'Phase 1',
      'Tasks: [FEATURE NAME]',
    ]);
    expect(blocks).toEqual(plain(lines));
    expect(readBlocks(lines)).toEqual(plain(lines));
  });

  test.each([
    ['a lazy continuation line', ['- [ ] T001 a', 'lazy text']],
    ['an indented continuation line', ['- [ ] T001 a', '  more text']],
    ['a setext underline after a definition (micromark reads it as paragraph text)', ['[P]: https://example.com', '===']],
    ['prose after a definition (a setext heading there would start at the definition)', ['[P]: https://example.com', 'Title']],
    ['a definition whose title may be on the next line', ['[P]: https://example.com', '"title"']],
    ['an item indented four past its parent', ['- [ ] T001 a', '      - [ ] T002 b']],
    ['a tab taking a top-level marker to column 4', ['\t- [ ] T001 a']],
    ['an ordered item not starting at 1 under a paragraph', ['Prose', '2. [ ] T001 a']],
    ['a delimiter row after paragraph text (its cells are not counted)', ['a | b', '|---|---|']],
    ['a table header and a delimiter row of another width', ['| a | b |', '| - |']],
    ['HTML', ['<details>']],
    ['a heading in a block quote whose text needs micromark', ['> ## Phase 1 <b>x</b>']],
    ['a tab in a block quote', ['>\t- [ ] T001 a']],
    ['a setext underline in a block quote', ['> Title', '> ---']],
    ['prose starting with ten digits and a dot (no list marker, but left to micromark)', ['1234567890. plan']],
    ['a link reference definition with an escape in its label', ['[P\\]]: https://example.com']],
    ['a footnote definition opening a list', ['[^1]: - [ ] T001 a']],
  ])('refuses %s', (_, lines) => {
    expect(readAll(lines)).toBeNull();
  });
});

describe('reading over many regions', () => {
  test('stops before the first region holding a line it does not know, keeping the regions before', () => {
    const lines = ['## Phase 1', '- [ ] T001 a', '', 'Title', '===', '', '<div>', '', '- [ ] T002 b'];
    const cuts = cutPoints(lines);
    expect(cuts).toEqual([0, 3, 6, 8, 9]);
    const reading = readSimpleRegions(lines, cuts, 0);
    expect(reading?.next).toBe(2);
    expect(reading?.blocks.map((block) => block.line)).toEqual([1, 2, 4]);
    expect(readSimpleRegions(lines, cuts, 2)).toBeNull();
    expect(readSimpleRegions(lines, cuts, 3)?.blocks.map((block) => block.line)).toEqual([9]);
    expect(readBlocks(lines, { shorten: false, chunkChars: 1 })).toEqual(plain(lines));
  });
});
