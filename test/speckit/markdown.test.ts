import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readBlocks, shorten } from '../../src/speckit/markdown.js';
import { comparable, fixture, plain } from './fixtures.js';

/** Cut at every place a cut is allowed, with checkbox lines shortened. */
const sliced = (lines: string[]) => readBlocks(lines, { shorten: true, chunkChars: 1 });


describe('shorten', () => {
  test('keeps a checkbox line up to its first text character', () => {
    expect(shorten('- [ ] T001 [P] Create x in src/x.ts')).toBe('- [ ] T');
    expect(shorten('  * [x] 準備 done')).toBe('  * [x] 準');
    expect(shorten('12) [~] 🔥 dropped')).toBe('12) [~] 🔥');
    expect(shorten('- [-] T002 dropped')).toBe('- [-] T');
  });

  test('leaves other lines and lines with <, > or | whole', () => {
    for (const line of ['## Phase 1', '- plain bullet', '- [ ]', '- [ ]x', '> - [ ] quoted', '- [ ] a <!-- b', '- [ ] a --> b', '- [ ] a | b', '\t- [ ] tab']) {
      expect(shorten(line)).toBe(line);
    }
  });
});

describe('reading in pieces gives the blocks of a single parse', () => {
  const traps: Record<string, string[]> = {
    'unclosed fence across a heading': ['# T', '', '```', '## Phase 1: in code', '- [ ] T001 in code', '', '## Phase 2', '- [ ] T002 also code'],
    'fence closed later': ['## Phase 1', '```bash', '', '## Phase 9', '- [ ] T9', '```', '', '## Phase 2', '- [ ] T002 real'],
    'html comment across a heading': ['## Phase 1', '- [x] T001', '', '<!--', '', '## Phase 2', '- [ ] T002 hidden', '-->', '', '## Phase 3', '- [ ] T003'],
    'html block without blank line': ['## Phase 1', '- [x] T001', '', '<details>', '## Phase 2', '- [ ] T002 raw html', '', '## Phase 3', '- [ ] T003'],
    'list continues after blank line only when indented': ['## Phase 1', '- [ ] T001 a', '', '  - [ ] T002 child', '', '- [ ] T003 sibling', '', 'para', '', '- [x] T004'],
    'block quote ended by a heading': ['> ## Phase 1', '> - [ ] T001', '## Phase 2', '- [ ] T002'],
    'setext and thematic breaks': ['## Phase 1', '- [x] T001', 'Title', '=====', '', '- [ ] T002', '---', '- [ ] T003', '  ---'],
    'table then tasks': ['## Phase 1', '| a | b |', '|---|---|', '| - [ ] x | y |', '', '- [ ] T001 a | b', '  --- | ---'],
  };
  for (const [name, lines] of Object.entries(traps)) {
    test(name, () => {
      expect(comparable(sliced(lines))).toEqual(comparable(plain(lines)));
    });
  }

  test('every fixture', () => {
    for (const name of ['template.md', 'fences.md', 'nested.md', 'ids-and-letters.md', 'children.md', 'unicode.md', 'dropped.md']) {
      const lines = fixture(name).toString('utf8').split('\n');
      expect(comparable(sliced(lines)), name).toEqual(comparable(plain(lines)));
      expect(comparable(readBlocks(lines)), name).toEqual(comparable(plain(lines)));
    }
  });

  test('any mix of tricky lines (property)', () => {
    const line = fc.constantFrom(
      '',
      '   ',
      '# Tasks',
      '## Phase 1: Setup',
      '### Phase 2.1 - Sub',
      '## Quality Gates',
      '- [ ] T001 [P] open task with `code` and **bold**',
      '- [x] T002 done',
      '- [x] **T016** bold id',
      '- [ ] **T017** bold id | pipe',
      '* [X] T003 done star',
      '1. [ ] T004 ordered',
      '2. [ ] T005 ordered two',
      '- [-] T006 dropped',
      '- [~] T007 dropped',
      '  - [ ] T008 child',
      '    - [x] T009 grandchild',
      '      - [ ] T010 deep',
      '\t- [ ] T011 tab',
      '> - [ ] T012 quoted',
      '- [ ] T013 a | b',
      '- [ ] T014 <b>html</b>',
      '- [ ] T015 -->',
      '- plain bullet',
      '  continuation text',
      'Paragraph text',
      '---',
      '===',
      '***',
      '```',
      '```bash',
      '~~~',
      '    indented code',
      '<details>',
      '</details>',
      '<!--',
      '-->',
      '<script>',
      '</script>',
      '| a | b |',
      '|---|---|',
      '[P]: https://example.com',
      '[^1]: footnote',
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 40 }), (lines) => {
        expect(comparable(sliced(lines))).toEqual(comparable(plain(lines)));
      }),
      { numRuns: 400 },
    );
  });
});
