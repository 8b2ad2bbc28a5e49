import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { discover } from '../../src/speckit/index.js';
import { pushBranchWith } from '../support/repo.js';
import { gql, TOKENS } from '../support/service.js';
import { startWorld, type World } from '../support/world.js';

// Issue 10, finding 1: a viewer's (or a repository's) Markdown froze the whole process, because tasks.md
// was parsed on the event loop. Now every read runs in a worker with a budget.

// Nothing within the reader's limits is slow any more (limits.ts bounds what micromark reads), so the budget
// is set below what large files take: micromark's slowest 7 KB and 1.9 MB read directly take about 260 ms.
const BUDGET_MS = 100;
const HEAD = '## Phase 1: Setup\n\n- [ ] T001 a task\n\n';
/** Within every limit: a 7 KB paragraph of emphasis runs (about 100 ms in micromark), then ordered items read directly (about 80 ms per MB). */
const slow = (bytes: number) => HEAD + '***a_ '.repeat(1200) + '\n\n' + '1. a\n\n'.repeat(Math.floor(bytes / 6));
/** Ten thousand lists opened on one line: 53 s on the event loop before the fix. */
const nested = HEAD + '- '.repeat(10_000) + 'x\n';
const PREVIEW = `query($md: String!) { previewNextPhase(tasksMarkdown: $md) { status errors { code line message } } }`;

let world: World;
beforeAll(async () => {
  world = await startWorld({ env: { TASKS_READ_TIMEOUT_MS: String(BUDGET_MS) } });
});
afterAll(async () => world?.close());

test('the stall: on the event loop, a read of 4.8 MB of Markdown holds the loop longer than 100 ms', () => {
  const started = performance.now();
  discover(slow(4_800_000));
  expect(performance.now() - started).toBeGreaterThan(100);
});

test('/healthz answers within 100 ms while previewNextPhase reads over its budget, which ends as SPEC_TOO_COMPLEX with the line reached', async () => {
  // Large previews one after another, each read until the budget ends it, for as long as the sampling lasts.
  let settled = false;
  const latencies: number[] = [];
  const previews = (async () => {
    let last: any;
    for (let i = 0; i < 40 && (i < 3 || latencies.length <= 5); i++) last = await gql(world.svc.url, PREVIEW, { md: slow(1_200_000) }, TOKENS.viewer);
    settled = true;
    return last;
  })();
  while (!settled) {
    const started = performance.now();
    const res = await fetch(`${world.svc.url}/healthz`);
    expect(res.status).toBe(200);
    latencies.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { body } = await previews;
  expect(latencies.length).toBeGreaterThan(5);
  expect(Math.max(...latencies)).toBeLessThan(100);
  const answer = body.data.previewNextPhase;
  expect(answer.status).toBe('INVALID');
  expect(answer.errors).toHaveLength(1);
  expect(answer.errors[0]).toMatchObject({ code: 'SPEC_TOO_COMPLEX' });
  expect(answer.errors[0].line).toBeGreaterThan(4);
  expect(answer.errors[0].message).toContain(`over ${BUDGET_MS} ms`);
});

test('a construct over the reader\'s limits ends at once as SPEC_TOO_COMPLEX, naming the line and the construct', async () => {
  const started = performance.now();
  const { body } = await gql(world.svc.url, PREVIEW, { md: nested }, TOKENS.viewer);
  expect(performance.now() - started).toBeLessThan(1000);
  expect(body.data.previewNextPhase).toMatchObject({ status: 'INVALID', errors: [{ code: 'SPEC_TOO_COMPLEX', line: 5 }] });
  expect(body.data.previewNextPhase.errors[0].message).toMatch(/nested block quotes or lists on one line/);
  // The service reads the next file as before.
  const fine = await gql(world.svc.url, PREVIEW, { md: HEAD }, TOKENS.viewer);
  expect(fine.body.data.previewNextPhase.status).toBe('PHASE');
});

test('DISCOVER of a repository whose tasks.md is hostile fails the run cleanly with SPEC_TOO_COMPLEX and the file and line', async () => {
  const bare = world.demoRepository;
  await pushBranchWith(bare, 'hostile', { 'specs/001-greeting/tasks.md': nested });
  await pushBranchWith(bare, 'hostile-slow', { 'specs/001-greeting/tasks.md': slow(1_200_000) });
  for (const [branch, construct] of [['hostile', /nested block quotes or lists/], ['hostile-slow', new RegExp(`over ${BUDGET_MS} ms`)]] as const) {
    const { run: started } = await world.start({ baseBranch: branch });
    const run = await world.waitFor(started.id);
    expect(run.status).toBe('FAILED');
    expect(run.failure).toMatchObject({ code: 'SPEC_TOO_COMPLEX', step: 'DISCOVER', retryModes: ['RESTART'] });
    expect(run.failure.message).toMatch(/^specs\/001-greeting\/tasks\.md:\d+: /);
    expect(run.failure.message).toMatch(construct);
    expect(run.steps.map((s: any) => s.state)).toEqual(['FAILED']);
  }
});
