import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { exited, spawnCli } from '../support/processes.js';
import { fileAt, pushBranchWith } from '../support/repo.js';
import { startWorld, type World } from '../support/world.js';

const RUNS = 50;
let world: World;
const workers: ChildProcess[] = [];
beforeAll(async () => {
  world = await startWorld({ workers: false, env: { GITHUB_MUTATION_INTERVAL_MS: '100' } });
  for (let i = 0; i < 2; i++) workers.push(spawnCli('work', { ...world.env, DATABASE_URL: world.databaseUrl }));
});
afterAll(async () => {
  for (const w of workers) {
    w.kill('SIGTERM');
    await exited(w);
  }
  await world?.close();
});

test(`two worker processes, ${RUNS} concurrent runs: every step of every run ran exactly once`, async () => {
  const bare = world.demoRepository;
  const tasks = await fileAt(bare, 'main', 'specs/001-greeting/tasks.md');
  const features = Array.from({ length: RUNS }, (_, i) => `${String(i + 100).padStart(3, '0')}-load-${i}`);
  await pushBranchWith(bare, 'many', Object.fromEntries(features.map((f) => [`specs/${f}/tasks.md`, tasks])));

  // Every run may have its Codex task at once, so SUBMIT never waits for a slot (capacity.test.ts tests that).
  await world.svc.app.db.query('UPDATE credential_set SET max_concurrent_codex_tasks = $1 WHERE id = $2', [RUNS, world.credentialSetId]);
  const started = await Promise.all(features.map((featureId) => world.start({ featureId, baseBranch: 'many' })));
  expect(started.every((s) => s.userErrors.length === 0)).toBe(true);
  const runs = await Promise.all(started.map((s) => world.waitFor(s.run.id, undefined, 400_000)));

  expect(runs.map((r) => r.status)).toEqual(Array(RUNS).fill('SUCCEEDED'));
  // The emulators saw one task and one pull request per run: no step ran twice.
  expect(world.codexTasksCreated()).toBe(RUNS);
  const creates = world.sandbox.github.requests().filter((r) => r.operationName === 'CreatePullRequest');
  expect(creates).toHaveLength(RUNS);
  expect(new Set(world.sandbox.github.pullRequests('sandbox/widgets').map((p) => p.headRefName)).size).toBe(RUNS);
  // One attempt, one try for every step but the polling apply.
  const rows = await world.svc.app.ds.query(
    `SELECT step, max(attempt) AS attempts, max(tries) AS tries, count(DISTINCT worker_id) AS workers FROM step_attempt
     WHERE step <> 'APPLY' GROUP BY step`,
  );
  for (const row of rows) expect({ step: row.step, attempts: row.attempts, tries: row.tries }).toEqual({ step: row.step, attempts: 1, tries: 1 });
  // Both worker processes took part.
  const [{ n }] = await world.svc.app.ds.query(`SELECT count(DISTINCT worker_id)::int AS n FROM step_attempt`);
  expect(n).toBe(2);
}, 450_000);
