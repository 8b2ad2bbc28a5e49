import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { discover } from '../../src/speckit/index.js';
import { MAX_DEFINITIONS, MAX_NESTING } from '../../src/speckit/limits.js';

const STATUSES = ['PHASE', 'NO_WORK', 'INVALID'];

describe('discover never throws', () => {
  test('for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        expect(STATUSES).toContain(discover(text).status);
      }),
      { numRuns: 500 },
    );
  });

  test('for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expect(STATUSES).toContain(discover(bytes).status);
      }),
      { numRuns: 500 },
    );
  });

  test('for Markdown-shaped noise', () => {
    const piece = fc.constantFrom('#', '## ', 'Phase ', '1', '3.10', 'A', ':', '- ', '[ ] ', '[x] ', '[-] ', '  ', '\t', '>', '```', '~~~', '<!--', '-->', '|', '**', '`', 'T001 ', '\n', '\r\n', '\r', '\u0000', '\uFEFF', '🎯', '準備');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 120 }), (pieces) => {
        expect(STATUSES).toContain(discover(pieces.join('')).status);
      }),
      { numRuns: 500 },
    );
  });

  test('for deeply nested containers: read up to the nesting limit, beyond it a clear error', () => {
    const quoted = discover('## Phase 1\n' + '> '.repeat(MAX_NESTING - 1) + '- [ ] T001 deep\n');
    expect(quoted.status === 'PHASE' && quoted.phase.openTasks.map((t) => t.id)).toEqual(['T001']);
    const deeper = discover('## Phase 1\n' + '> '.repeat(2000) + '- [ ] T001 deep\n');
    expect(deeper.status === 'INVALID' && deeper.errors).toMatchObject([{ code: 'SPEC_TOO_COMPLEX', line: 2 }]);
    const nested = discover('## Phase 1\n' + Array.from({ length: 150 }, (_, i) => `${'  '.repeat(i)}- [ ] T${i}`).join('\n'));
    expect(nested.status === 'PHASE' && nested.phase.openTasks.map((t) => t.depth)).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });
});

// A tasks file built from a model: a sequence of headings (phase or not, at levels 1 to 4), checkbox
// items (at list depth 0 to 2) and noise that must not count (fenced code holding phase-like lines).
type Entry =
  | { kind: 'heading'; level: number; phaseId: string | null; title: string }
  | { kind: 'task'; state: 'open' | 'done' | 'dropped'; depth: number; marker: string; id: string }
  | { kind: 'noise'; text: string };

const phaseId = fc.oneof(
  fc.nat({ max: 20 }).map(String),
  fc.tuple(fc.nat({ max: 9 }), fc.integer({ min: 1, max: 12 })).map(([a, b]) => `${a}.${b}`),
  fc.constantFrom('A', 'B', 'N', '5b', '0'),
);
const title = fc.constantFrom('Setup', 'User Story 1 - Title (Priority: P1) 🎯 MVP', '準備', 'Polish & `lint`', '');
const separator = fc.constantFrom(': ', ' - ', ' – ', ' — ', ' · ', ' ');
const heading = fc.record({
  kind: fc.constant('heading' as const),
  level: fc.integer({ min: 1, max: 4 }),
  phaseId: fc.option(phaseId, { nil: null, freq: 3 }),
  title: fc.tuple(separator, title).map(([sep, text]) => (text === '' ? '' : sep + text)),
});
const task = fc.record({
  kind: fc.constant('task' as const),
  state: fc.constantFrom('open' as const, 'done' as const, 'dropped' as const),
  depth: fc.integer({ min: 0, max: 2 }),
  marker: fc.constantFrom('-', '*', '+', '1.'),
  id: fc.constantFrom('T001', '**T002**', 'T056a', 'T082.6', 'T-NEW-A', ''),
});
const noise = fc.record({
  kind: fc.constant('noise' as const),
  text: fc.constantFrom(
    '```mermaid\nPhase 1: Setup --> Phase 2\n- [ ] T999 in a fence\n```',
    '~~~\n## Phase 9: in a tilde fence\n- [ ] T998\n~~~',
    'Some text with `- [ ] T997` inline.',
    '**Checkpoint**: ready',
    '### Phase Dependencies',
  ),
});
const model = fc.array(fc.oneof({ arbitrary: heading, weight: 2 }, { arbitrary: task, weight: 5 }, { arbitrary: noise, weight: 1 }), {
  minLength: 1,
  maxLength: 40,
});

const BOX = { open: '[ ]', done: '[x]', dropped: '[-]' } as const;

/** Renders the model, returning the text and, for each task, its line and the phase line that directly holds it. */
function render(entries: Entry[]) {
  const lines: string[] = [];
  const tasks: { line: number; state: 'open' | 'done' | 'dropped'; phaseLine: number | null }[] = [];
  const open: { level: number; phaseLine: number | null }[] = [];
  let listDepth = -1; // depth of the previous item in the current list, -1 when no list is open
  const contentAt: number[] = []; // column where the text of the open item at each depth starts
  for (const entry of entries) {
    if (entry.kind === 'heading') {
      lines.push('', `${'#'.repeat(entry.level)} ${entry.phaseId === null ? `Notes${entry.title}` : `Phase ${entry.phaseId}${entry.title}`}`);
      const headingLine = lines.length - 1;
      lines.push('');
      listDepth = -1;
      while (open.length > 0 && open.at(-1)!.level >= entry.level) open.pop();
      open.push({ level: entry.level, phaseLine: entry.phaseId === null ? (open.at(-1)?.phaseLine ?? null) : headingLine });
    } else if (entry.kind === 'noise') {
      lines.push('', ...entry.text.split('\n'), '');
      if (entry.text.startsWith('#')) {
        // A plain `###` heading: it closes deeper and equal scopes like any heading.
        while (open.length > 0 && open.at(-1)!.level >= 3) open.pop();
        open.push({ level: 3, phaseLine: open.at(-1)?.phaseLine ?? null });
      }
      listDepth = -1;
    } else {
      const depth = Math.min(entry.depth, listDepth + 1);
      listDepth = depth;
      // A child is indented to where its parent's text starts (2 after `-`, 3 after `1.`).
      contentAt.length = depth;
      const indent = depth === 0 ? 0 : contentAt[depth - 1]!;
      contentAt.push(indent + entry.marker.length + 1);
      const id = entry.id === '' ? '' : `${entry.id} `;
      lines.push(`${' '.repeat(indent)}${entry.marker} ${BOX[entry.state]} ${id}Task text`);
      tasks.push({ line: lines.length - 1, state: entry.state, phaseLine: open.at(-1)?.phaseLine ?? null });
    }
  }
  return { lines, tasks };
}

describe('discovery on generated tasks files', () => {
  test('the next phase directly holds the first open task inside a phase (the first phase in order with open work)', () => {
    fc.assert(
      fc.property(model, (entries) => {
        const { lines, tasks } = render(entries);
        const discovery = discover(lines.join('\n'));
        const inPhase = tasks.filter((t) => t.phaseLine !== null);
        if (inPhase.length === 0) {
          expect(discovery.status).toBe('INVALID');
          return;
        }
        const firstOpen = inPhase.find((t) => t.state === 'open');
        if (!firstOpen) {
          expect(discovery.status).toBe('NO_WORK');
          return;
        }
        expect(discovery.status).toBe('PHASE');
        if (discovery.status !== 'PHASE') return;
        expect(discovery.phase.line).toBe(firstOpen.phaseLine! + 1);
        expect(discovery.phase.openTasks.map((t) => t.line)).toEqual(
          inPhase.filter((t) => t.state === 'open' && t.phaseLine === firstOpen.phaseLine).map((t) => t.line + 1),
        );
        expect(discovery.counts.open).toBe(inPhase.filter((t) => t.state === 'open').length);
        expect(discovery.counts.outside).toBe(tasks.length - inPhase.length);
      }),
      { numRuns: 400 },
    );
  });

  test('marking every open task done leaves no work', () => {
    fc.assert(
      fc.property(model, (entries) => {
        const { lines, tasks } = render(entries);
        if (!tasks.some((t) => t.phaseLine !== null)) return;
        const closed = [...lines];
        for (const t of tasks) if (t.state === 'open') closed[t.line] = closed[t.line]!.replace('[ ]', '[X]');
        const discovery = discover(closed.join('\r\n'));
        expect(discovery.status).toBe('NO_WORK');
      }),
      { numRuns: 400 },
    );
  });
});

describe('the definition limit applies where micromark is given the definitions', () => {
  const many = Array.from({ length: MAX_DEFINITIONS + 50 }, (_, i) => `[d${i}]: https://x.io/${i}\n\n`).join('');

  test('a file read directly is answered whatever its number of definitions', () => {
    const read = discover(`## Phase 1\n\n- [ ] T001 a\n\n${many}`);
    expect(read.status === 'PHASE' && read.phase.openTasks.map((t) => t.id)).toEqual(['T001']);
  });

  test('a piece or heading micromark must read with them is SPEC_TOO_COMPLEX, naming the first definition', () => {
    for (const rest of ['<div>\nhtml\n</div>\n', '## Phase 2 [d1] linked\n- [ ] T002 b\n']) {
      const read = discover(`## Phase 1\n\n- [ ] T001 a\n\n${many}${rest}`);
      expect(read.status === 'INVALID' && read.errors).toMatchObject([{ code: 'SPEC_TOO_COMPLEX', line: 5 }]);
    }
  });
});
