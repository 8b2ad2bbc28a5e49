import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { TOKENS } from '../support/service.js';
import { expectGapless, startWorld, type World } from '../support/world.js';

let world: World;
const logLines: string[] = [];
beforeAll(async () => {
  world = await startWorld({ env: { LOG_LEVEL: 'debug' }, logLines });
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

test('no secret appears in any log line, event, step message or artifact', async () => {
  // Phase 1 is in review after the first test: revise it, so that every step runs again.
  const { run: started } = await world.start({ phaseId: '1', notes: 'Keep the greeting short.' });
  expect((await world.waitFor(started.id)).status).toBe('SUCCEEDED');
  const auth = JSON.parse(await readFile(world.sandbox.credentialSet.codexAuthRef.slice('file:'.length), 'utf8'));
  const secrets = [
    (await readFile(world.sandbox.credentialSet.githubTokenRef.slice('file:'.length), 'utf8')).trim(),
    auth.tokens.access_token,
    auth.tokens.refresh_token,
    auth.tokens.id_token,
  ].filter(Boolean);
  expect(secrets.length).toBe(4);
  // Every stored artifact of every run, downloaded as a client would.
  const runIds: { id: string }[] = await world.svc.app.ds.query('SELECT id FROM spec_workflow_run');
  const stored = (await Promise.all(runIds.map(async ({ id }) => (await world.run(id)).artifacts))).flat().filter((a: any) => a.url.startsWith('/artifacts/'));
  const artifacts = await Promise.all(
    stored.map(async (a: any) => (await fetch(`${world.svc.url}${a.url}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } })).text()),
  );
  expect(artifacts.length).toBeGreaterThan(5);
  const events = await world.svc.app.ds.query('SELECT payload::text FROM run_event');
  const steps = await world.svc.app.ds.query('SELECT message, payload::text, error::text FROM step_attempt');
  const everything = [...logLines, ...artifacts, JSON.stringify(events), JSON.stringify(steps)].join('\n');
  expect(logLines.length).toBeGreaterThan(20);
  for (const secret of secrets) expect(everything).not.toContain(secret);
});
