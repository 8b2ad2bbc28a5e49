import { describe, expect, test } from 'vitest';
import { discover, parseTasks, type Discovery, type PhaseReport } from '../../src/speckit/index.js';
import { fixture } from './fixtures.js';

function phaseOf(discovery: Discovery): PhaseReport {
  if (discovery.status !== 'PHASE') throw new Error(`expected a phase, got ${JSON.stringify(discovery)}`);
  return discovery.phase;
}

const ids = (tasks: { id: string | null }[]) => tasks.map((task) => task.id);

describe('generated template', () => {
  const discovery = discover(fixture('template.md'), 'template.md');

  test('the first phase with an open task is next, with the tasks of all its subsections', () => {
    const phase = phaseOf(discovery);
    expect(phase).toMatchObject({ id: '3', title: 'User Story 1 - Start a chain (Priority: P1) 🎯 MVP', line: 32, level: 2, parent: null });
    expect(ids(phase.openTasks)).toEqual(['T011', 'T012', 'T014']);
    expect(ids(phase.doneTasks)).toEqual(['T010']);
  });

  test('markers, story and description are read from each task line', () => {
    const [t011, t012] = phaseOf(discovery).openTasks;
    expect(t011).toMatchObject({
      id: 'T011',
      line: 39,
      state: 'open',
      depth: 0,
      parallel: true,
      story: 'US1',
      description: 'Integration test for the chain in tests/integration/test_chain.py',
    });
    expect(t012).toMatchObject({ id: 'T012', parallel: false, story: 'US1', description: 'Create Run model in src/models/run.py' });
  });

  test('"Phase Dependencies" is a heading, not a phase, and its checkbox lies outside every phase', () => {
    const parsed = parseTasks(fixture('template.md'));
    expect(parsed.phases.map((phase) => phase.id)).toEqual(['1', '2', '3', '4', 'N']);
    const review = parsed.tasks.find((task) => task.description.startsWith('Review the dependency graph'));
    expect(review).toMatchObject({ line: 66, phase: null, state: 'open' });
    expect(discovery.status === 'PHASE' && discovery.counts).toEqual({ phases: 5, open: 6, done: 6, dropped: 0, outside: 1 });
  });
});

describe('phase ids', () => {
  test('3.10 follows 3.9 and is reported as "3.10", never as a number', () => {
    const phase = phaseOf(discover(fixture('decimal.md')));
    expect(phase).toMatchObject({ id: '3.10', title: 'Release', line: 21 });
    expect(ids(phase.openTasks)).toEqual(['T010', 'T011']);
    expect(parseTasks(fixture('decimal.md')).phases.map((p) => p.id).slice(-2)).toEqual(['3.9', '3.10']);
  });

  test('phase 0, letters and suffixed ids, with every separator', () => {
    const parsed = parseTasks(fixture('ids-and-letters.md'));
    expect(parsed.phases.map((p) => [p.id, p.title])).toEqual([
      ['0', 'Research'],
      ['A', 'Audit'],
      ['B', 'Backfill'],
      ['5b', 'Follow-up'],
      ['6', ''],
    ]);
    expect(phaseOf(discover(fixture('ids-and-letters.md'))).id).toBe('5b');
  });

  test('headings at any level, separators ":", " - ", " – ", " — ", "·" or none, bold text', () => {
    const parsed = parseTasks(fixture('separators.md'));
    expect(parsed.phases.map((p) => [p.id, p.title, p.level, p.parent?.id ?? null])).toEqual([
      ['1', 'Setup', 3, null],
      ['2', 'Tests', 4, '1'],
      ['3', 'Core', 6, '2'],
      ['4', 'Bold heading', 2, null],
      ['5', 'Integration', 2, null],
    ]);
    expect(phaseOf(discover(fixture('separators.md')))).toMatchObject({ id: '5', line: 15 });
  });

  test('CJK text, emoji and backticks in titles and tasks', () => {
    const phase = phaseOf(discover(fixture('unicode.md')));
    expect(phase.title).toBe('実装 `i18n` 🚀 — 中文/日本語');
    expect(phase.openTasks.map((t) => [t.id, t.story, t.parallel, t.description])).toEqual([
      ['T002', 'US1', false, '翻訳ファイルを追加 in src/locales/ja.json 🎌'],
      ['T003', 'US1', true, 'Emoji 🔥 handling in src/emoji.ts'],
    ]);
  });
});

describe('task ids', () => {
  test('bold, suffixed, dotted, dashed, code-formatted, labelled and missing ids', () => {
    const phase = phaseOf(discover(fixture('ids-and-letters.md')));
    expect(phase.openTasks.map((t) => [t.id, t.description])).toEqual([
      ['T014e', '[UI-Parity – Host Reuse] Reuse the host shell in web/host.tsx'],
      ['T082.6', 'Split the migration'],
      ['T-NEW-A', 'New task added during review'],
      ['T090', 'Code-formatted id'],
      ['T091', 'Bold id then colon'],
      [null, 'Task without an id in src/misc.ts'],
    ]);
    expect(phase.openTasks[2]).toMatchObject({ parallel: true, story: 'US2' });
    expect(ids(phase.doneTasks)).toEqual(['T056a']);
    expect(parseTasks(fixture('ids-and-letters.md')).tasks[0]).toMatchObject({ id: 'T000', state: 'done', line: 4 });
  });
});

describe('scope', () => {
  test('an h1 phase holds h2 sub-phases: the sub-phase holding the first open task is reported with its parent', () => {
    const phase = phaseOf(discover(fixture('nested.md')));
    expect(phase).toMatchObject({ id: '1.2', title: 'Queues', line: 8, level: 2, parent: { id: '1', title: 'Foundation', line: 1 } });
    // T005 sits under a deeper plain heading, which stays inside Phase 1.2.
    expect(ids(phase.openTasks)).toEqual(['T004', 'T005']);
    expect(ids(phase.doneTasks)).toEqual(['T003']);
  });

  test('a task held directly by the parent phase belongs to the parent, not to a sub-phase', () => {
    const parsed = parseTasks(fixture('nested.md'));
    expect(parsed.tasks.map((t) => [t.id, t.phase?.id])).toEqual([
      ['T001', '1'],
      ['T002', '1.1'],
      ['T003', '1.2'],
      ['T004', '1.2'],
      ['T005', '1.2'],
      ['T010', '2.1'],
    ]);
    expect(parsed.phases.find((p) => p.id === '2.1')?.parent).toEqual({ id: '2', title: 'Delivery', line: 15 });
  });

  test('quality gates under a same-level non-phase heading are outside every phase: no work', () => {
    const discovery = discover(fixture('gates-outside.md'));
    expect(discovery).toMatchObject({ status: 'NO_WORK', file: 'tasks.md', counts: { phases: 2, open: 0, done: 2, dropped: 0, outside: 3 } });
  });

  test('quality gates under a deeper heading stay inside the last phase: that phase is next', () => {
    const phase = phaseOf(discover(fixture('gates-inside.md')));
    expect(phase).toMatchObject({ id: '2', line: 6 });
    expect(phase.openTasks).toMatchObject([{ id: null, line: 10, description: 'All tests pass' }]);
    expect(phase.doneTasks.map((t) => t.line)).toEqual([7, 11]);
  });

  test('a phase heading with no task under it (an example) is not an error and never next', () => {
    const parsed = parseTasks(fixture('examples.md'));
    expect(parsed.errors).toEqual([]);
    expect(parsed.phases[0]).toMatchObject({ id: '1', title: '(regression tests fail RED)', line: 5, level: 3 });
    expect(phaseOf(discover(fixture('examples.md')))).toMatchObject({ id: '2', line: 12 });
  });
});

describe('checkboxes', () => {
  test('fenced and indented code is ignored; `- [ ]` in inline code is text', () => {
    const parsed = parseTasks(fixture('fences.md'));
    expect(parsed.phases.map((p) => [p.id, p.line])).toEqual([
      ['1', 10],
      ['2', 28],
    ]);
    expect(parsed.tasks.map((t) => t.id)).toEqual(['T001', 'T002', 'T003']);
    expect(parsed.tasks[0]!.description).toBe('Mention `- [ ]` in backticks mid-sentence: `- [ ] T903` stays text');
    expect(phaseOf(discover(fixture('fences.md')))).toMatchObject({ id: '2', line: 28 });
  });

  test('[-] and [~] are dropped: neither open nor done; "SKIPPED" on an empty box stays open', () => {
    const parsed = parseTasks(fixture('dropped.md'));
    expect(parsed.tasks.map((t) => [t.id, t.state])).toEqual([
      ['T001', 'done'],
      ['T002', 'dropped'],
      ['T003', 'dropped'],
      ['T004', 'dropped'],
      ['T005', 'dropped'],
      ['T006', 'open'],
      ['T007', 'done'],
    ]);
    expect(parsed.tasks[1]!.description).toBe('Deferred to a later release');
    const discovery = discover(fixture('dropped.md'));
    expect(phaseOf(discovery)).toMatchObject({ id: '3', line: 12 });
    expect(discovery.status === 'PHASE' && discovery.counts).toEqual({ phases: 3, open: 1, done: 2, dropped: 4, outside: 0 });
  });

  test('open children under a checked parent keep their phase open, with their depth', () => {
    const phase = phaseOf(discover(fixture('children.md')));
    expect(phase).toMatchObject({ id: '1', line: 3 });
    expect(phase.openTasks.map((t) => [t.id, t.line, t.depth])).toEqual([
      ['T001.2', 6, 1],
      ['T001.2.1', 7, 2],
    ]);
    expect(phase.doneTasks.map((t) => [t.id, t.depth])).toEqual([
      ['T001', 0],
      ['T001.1', 1],
    ]);
  });

  test('an earlier phase left open comes before later done and open phases', () => {
    const phase = phaseOf(discover(fixture('out-of-order.md')));
    expect(phase).toMatchObject({ id: '1', title: 'Setup', line: 3 });
    expect(ids(phase.openTasks)).toEqual(['T002']);
  });

  test('bullets *, + and ordered items, tabs, block quotes and nested lists all carry tasks', () => {
    const text = [
      '## Phase 1: Mixed',
      '* [x] T001 star',
      '+ [X] T002 plus',
      '1. [x] T003 ordered',
      '2) [ ] T004 ordered paren',
      '-\t[ ] T005 tab after the bullet',
      '> - [ ] T006 quoted',
      '- [x] T007 parent',
      '    - [ ] T008 four-space child',
      '- [ ] T009 first line',
      '  continues here',
      '- [ ] **T010** bold id on a line kept whole | for its pipe',
    ].join('\n');
    const parsed = parseTasks(text);
    expect(parsed.tasks.map((t) => [t.id, t.state, t.line, t.depth])).toEqual([
      ['T001', 'done', 2, 0],
      ['T002', 'done', 3, 0],
      ['T003', 'done', 4, 0],
      ['T004', 'open', 5, 0],
      ['T005', 'open', 6, 0],
      ['T006', 'open', 7, 0],
      ['T007', 'done', 8, 0],
      ['T008', 'open', 9, 1],
      ['T009', 'open', 10, 0],
      ['T010', 'open', 12, 0],
    ]);
    expect(parsed.tasks[8]!.description).toBe('first line continues here');
    expect(parsed.tasks[9]!.description).toBe('bold id on a line kept whole | for its pipe');
  });

  test('a setext heading closes a phase of its level like any heading; an ATX-looking line in a paragraph does not', () => {
    const text = ['## Phase 1: A', '- [x] T001 a', '', 'Notes', '-----', '- [ ] T002 outside', '## Phase 2: B', '- [ ] T003 b'].join('\n');
    const parsed = parseTasks(text);
    expect(parsed.tasks.map((t) => [t.id, t.phase?.id ?? null])).toEqual([
      ['T001', '1'],
      ['T002', null],
      ['T003', '2'],
    ]);
    expect(phaseOf(discover(text))).toMatchObject({ id: '2' });
  });
});
