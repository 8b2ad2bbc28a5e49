import { performance } from 'node:perf_hooks';
import { expect, test } from 'vitest';
import { discover } from '../../src/speckit/index.js';
import { MAX_MICROMARK_CHARS, MicromarkBudget } from '../../src/speckit/limits.js';
import { readBlocks } from '../../src/speckit/markdown.js';

// The per-file budget of what micromark is given (limits.ts): whatever a file holds, micromark's share of
// its reading stays bounded, and a file over it is refused with the line reading had reached.

const HEAD = '## Phase 1: Setup\n\n- [ ] T001 a task\n\n';
const html = (blocks: number) => HEAD + '<div>x</div>\n\n'.repeat(blocks);
/** What a reading of `text` hands to micromark, unbounded. */
const handed = (text: string) => {
  const budget = new MicromarkBudget(Infinity);
  readBlocks(text.split('\n'), { budget });
  return budget.used;
};

/** The most HTML blocks a file may hold within the budget. */
function mostBlocks(): number {
  let blocks = 1;
  while (handed(html(blocks + 1)) <= MAX_MICROMARK_CHARS) blocks++;
  return blocks;
}

test('a file handing micromark just under the budget reads; one block more is SPEC_TOO_COMPLEX at the piece reached', () => {
  const blocks = mostBlocks();
  expect(handed(html(blocks))).toBeGreaterThan(MAX_MICROMARK_CHARS - 100);
  expect(discover(html(blocks)).status).toBe('PHASE');
  const over = discover(html(blocks + 1));
  expect(over.status).toBe('INVALID');
  const error = over.errors[0]!;
  expect(error).toMatchObject({ code: 'SPEC_TOO_COMPLEX' });
  expect(error.message).toContain(`more than ${MAX_MICROMARK_CHARS / 1024} KB of Markdown that only the full CommonMark parser reads (HTML blocks`);
  // The line is where a piece starts: an HTML block's, after the head.
  expect(error.line).toBeGreaterThan(4);
  expect(html(blocks + 1).split('\n')[error.line! - 1]).toBe('<div>x</div>');
});

test('the second reading with definitions known and heading batches count too', () => {
  const withDefinition = '[z]: /z\n\n' + HEAD + '## Phase 2 [z] &ouml;\n\n- [ ] T002 b\n\n<div>x</div>\n\n';
  const used = handed(withDefinition);
  // Both readings parse the definition's piece and the HTML block; the heading goes in a batch with the definition before it.
  expect(used).toBeGreaterThan(2 * '<div>x</div>\n#'.length + '## Phase 2 [z] &ouml;'.length);
  expect(() => readBlocks(withDefinition.split('\n'), { budget: new MicromarkBudget(used - 1) })).toThrow(/more than 0 KB/);
  expect(() => readBlocks(withDefinition.split('\n'), { budget: new MicromarkBudget(used) })).not.toThrow();
});

test('5 MB of HTML blocks is refused within a second', () => {
  const text = html(5_000_000 / 14);
  const started = performance.now();
  const answer = discover(text);
  expect(performance.now() - started).toBeLessThan(1000);
  expect(answer).toMatchObject({ status: 'INVALID', errors: [{ code: 'SPEC_TOO_COMPLEX' }] });
});
