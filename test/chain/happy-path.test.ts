import { afterAll, beforeAll, expect, test } from 'vitest';
import { expectGapless, startWorld, type World } from '../support/world.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => world?.close());

test('a run goes from tasks written to pull request open, and reports task id, branch and PR', async () => {
  const { run: started, userErrors } = await world.start();
  expect(userErrors).toEqual([]);
  expect(started.status).toBe('QUEUED');
  expect(started.sandbox).toBe(true);

  const run = await world.waitFor(started.id);
  expect(run.failure).toBeNull();
  expect(run.status).toBe('SUCCEEDED');
  expect(run.outputs.codexTaskId).toMatch(/^task_e_/);
  expect(run.outputs.branch).toBe(`spec-chain/001-greeting/phase-${run.phase.id}`);
  expect(run.outputs.pullRequestUrl).toMatch(/\/pull\/\d+$/);
  expect(run.steps.map((s: any) => [s.step, s.state])).toEqual([
    ['DISCOVER', 'SUCCEEDED'],
    ['SUBMIT', 'SUCCEEDED'],
    ['APPLY', 'SUCCEEDED'],
    ['PUBLISH', 'SUCCEEDED'],
    ['FINALIZE', 'SUCCEEDED'],
  ]);
  expect(run.artifacts.map((a: any) => a.kind)).toEqual(expect.arrayContaining(['PROMPT', 'CODEX_TASK', 'CODEX_LOG', 'PATCH', 'BRANCH', 'PULL_REQUEST', 'SUMMARY']));

  // Exactly one Codex task and one pull request, on the branch the run names.
  expect(world.codexTasksCreated()).toBe(1);
  const prs = world.sandbox.github.pullRequests('sandbox/widgets');
  expect(prs).toHaveLength(1);
  expect(prs[0]!.headRefName).toBe(run.outputs.branch);

  const events = await world.events(run.id);
  expectGapless(events);
  expect(events.at(-1)).toMatchObject({ step: null, to: 'SUCCEEDED' });
});
