import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { closeTasksReader, configureTasksReader, readTasks, TASKS_READER_DEFAULTS } from '../../src/speckit/pool.js';

// Random Markdown of nested containers, headings, tables and definitions, read as the service reads it (in
// the worker pool, dist/src/speckit/worker.js: run `npm run build` first): every read answers within its
// budget, or ends in the clear error with a line; none hangs, crashes or throws.

const BUDGET_MS = 2000;
beforeAll(() => configureTasksReader({ ...TASKS_READER_DEFAULTS, timeoutMs: BUDGET_MS }));
afterAll(async () => {
  await closeTasksReader();
  configureTasksReader(TASKS_READER_DEFAULTS);
});

const container = fc.constantFrom('> ', '- ', '* ', '1. ', '2) ', '  ', '    ', '- [ ] ', '> - [x] ');
const inline = fc.constantFrom('T001 task', '[P] [US1] text', '*em*', '**strong**', '`code`', '[ref]', '[^1]', '<b>', '|', '\\', '&amp;', '[a](', 'www.x.io');
const line = fc.oneof(
  fc.tuple(fc.array(container, { maxLength: 48 }), fc.array(inline, { maxLength: 6 })).map(([open, text]) => open.join('') + text.join(' ')),
  fc.tuple(fc.integer({ min: 1, max: 6 }), fc.constantFrom('Phase 1: Setup', 'Phase 2b', 'Notes', 'Phase A *x*')).map(([level, text]) => '#'.repeat(level) + ' ' + text),
  fc.constantFrom('=', '===', '---', '-', 'text', ''),
  fc.integer({ min: 1, max: 12 }).map((columns) => '|' + ' a |'.repeat(columns) + '\n|' + ' - |'.repeat(columns)),
  fc.nat({ max: 999 }).map((n) => (n % 2 ? `[d${n}]: https://x.io/${n} "t"` : `[^f${n}]: note`)),
  fc.constantFrom('```', '~~~', '<!--', '-->', '<div>', '</div>'),
);
/** A block of lines repeated: how a small construct becomes a large input. */
const document = fc.tuple(fc.array(line, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 400 }), fc.boolean()).map(
  ([lines, times, blank]) => '## Phase 1: Setup\n\n- [ ] T001 first\n\n' + (lines.join('\n') + (blank ? '\n\n' : '\n')).repeat(times),
);

test('random nested containers, headings, tables and definitions: answered within the budget, or SPEC_TOO_COMPLEX with a line', async () => {
  await fc.assert(
    fc.asyncProperty(document, async (markdown) => {
      const discovery = await readTasks(markdown, 'tasks.md');
      expect(['PHASE', 'NO_WORK', 'INVALID']).toContain(discovery.status);
      if (discovery.status === 'INVALID') {
        for (const error of discovery.errors) {
          expect(['SPEC_TOO_COMPLEX', 'NO_TASKS', 'TASKS_OUTSIDE_PHASES', 'NO_PHASE_HEADING']).toContain(error.code);
          if (error.code === 'SPEC_TOO_COMPLEX') expect(error.line).toBeGreaterThan(0);
        }
      }
    }),
    { numRuns: 60 },
  );
}, 300_000);

test('a read over the memory limit ends as SPEC_TOO_COMPLEX, and the next read is answered', async () => {
  configureTasksReader({ timeoutMs: 60_000, memoryMb: 32, threads: 1 });
  // 5 MB of checkbox lines: every one becomes a task record, far more than 32 MB of heap.
  const huge = '## Phase 1: Setup\n\n' + '- [ ] T001 a task with some words in it\n'.repeat(120_000);
  const over = await readTasks(huge, 'tasks.md');
  expect(over).toMatchObject({ status: 'INVALID', errors: [{ code: 'SPEC_TOO_COMPLEX' }] });
  expect(over.status === 'INVALID' && over.errors[0]!.message).toMatch(/over 32 MB of memory/);
  expect((await readTasks('## Phase 1\n\n- [ ] T001 x\n', 'tasks.md')).status).toBe('PHASE');
  configureTasksReader({ ...TASKS_READER_DEFAULTS, timeoutMs: BUDGET_MS });
}, 120_000);
