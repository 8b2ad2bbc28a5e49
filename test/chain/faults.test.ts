import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createCodexCloudClient } from '../../src/providers/codex-cloud/index.js';
import { SANDBOX_ENVIRONMENT } from '../../src/sandbox/index.js';
import { branchesOf } from '../support/repo.js';
import { exited, spawnCli } from '../support/processes.js';
import { gql, TOKENS } from '../support/service.js';
import { expectGapless, startWorld, type World } from '../support/world.js';

// The fault campaign of issue 11, with real worker processes: paused past their take-over, killed after
// an outside call, and runs cancelled in the middle of publishing.

const FINAL = ['SUCCEEDED', 'IN_REVIEW', 'FAILED', 'CANCELLED', 'NO_WORK', 'SKIPPED'];

/** No event moves anything out of a final state (a stale worker's note keeps from = to). */
function expectNoExitFromFinal(events: { from: string | null; to: string }[]): void {
  for (const e of events) if (e.from && FINAL.includes(e.from)) expect(e.to, JSON.stringify(e)).toBe(e.from);
}

describe('separate worker processes', () => {
  let world: World;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    world = await startWorld({ workers: false });
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.kill('SIGCONT');
      c.kill('SIGKILL');
      await exited(c);
    }
  });
  afterAll(async () => world?.close());

  const worker = () => {
    const child = spawnCli('work', { ...world.env, DATABASE_URL: world.databaseUrl });
    children.push(child);
    return child;
  };

  async function untilStepRunning(runId: string, step: string): Promise<void> {
    for (;;) {
      const rows = await world.svc.app.db.query(`SELECT 1 FROM step_attempt WHERE run_id = $1 AND step = $2 AND state = 'RUNNING'`, [runId, step]);
      if (rows.rowCount) return;
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  test.each(['SUBMIT', 'PUBLISH'])(
    'a worker paused (SIGSTOP) in %s past its take-over, then resumed: one Codex task, one pull request, nothing after the end',
    async (step) => {
      const tasksBefore = world.codexTasksCreated();
      const prsBefore = world.sandbox.github.pullRequests('sandbox/widgets').length;
      const paused = worker();
      const { run: started } = await world.start({ featureId: await world.freshFeature() });
      await untilStepRunning(started.id, step);
      paused.kill('SIGSTOP');
      const stoppedAt = Date.now();
      // Another worker takes the attempt over once the paused one misses its heartbeat, and finishes the run.
      worker();
      const run = await world.waitFor(started.id, undefined, 120_000);
      expect(run.status).toBe('SUCCEEDED');
      const takenOverAfterMs = Date.now() - stoppedAt;
      paused.kill('SIGCONT');
      // The resumed worker finds its claim gone: whatever it finishes is dropped, with an event saying so.
      await expect
        .poll(async () => (await world.events(started.id)).some((e: any) => e.payload?.stale === true), { timeout: 30_000 })
        .toBe(true);
      await new Promise((r) => setTimeout(r, 1000));

      expect(world.codexTasksCreated() - tasksBefore).toBe(1);
      const prs = world.sandbox.github.pullRequests('sandbox/widgets');
      expect(prs.length - prsBefore).toBeLessThanOrEqual(1);
      expect(prs.filter((p) => p.headRefName === run.outputs.branch && p.state === 'OPEN')).toHaveLength(1);
      const after = await world.run(started.id);
      expect(after.status).toBe('SUCCEEDED');
      expect(after.outputs).toEqual(run.outputs);
      const events = await world.events(started.id);
      expectGapless(events);
      expectNoExitFromFinal(events);
      const queued = await world.svc.app.db.query(`SELECT step, attempt, state FROM step_attempt WHERE run_id = $1 AND state NOT IN ('SUCCEEDED')`, [started.id]);
      expect(queued.rows).toEqual([]);
      console.log(`${step}: paused worker taken over and the run finished ${takenOverAfterMs} ms after SIGSTOP`);
    },
    180_000,
  );

  test('a SUBMIT killed after creating its task while 150 other tasks appear in the environment: the task is adopted, not made twice', async () => {
    const tasksBefore = world.codexTasksCreated();
    const first = worker();
    const { run: started } = await world.start({ featureId: await world.freshFeature() });
    for (;;) {
      if (world.codexTasksCreated() > tasksBefore) break;
      await new Promise((r) => setImmediate(r));
    }
    first.kill('SIGKILL');
    await exited(first);
    // A busy environment: 150 newer tasks, so the one to adopt is on the eighth page of the list.
    const { codexBaseUrl: baseUrl, codexAuthUrl: authUrl } = world.sandbox.endpoints;
    const others = createCodexCloudClient({ authRef: world.sandbox.credentialSet.codexAuthRef, baseUrl, authUrl });
    world.sandbox.codex.script(...Array.from({ length: 150 }, () => ({ kind: 'no-diff' as const })));
    for (let i = 0; i < 150; i++) {
      await others.submitTask({ environmentId: SANDBOX_ENVIRONMENT.id, branch: 'main', prompt: `someone else's task ${i}`, bestOfN: 1, marker: `other-${i}` });
    }
    worker();
    const run = await world.waitFor(started.id, undefined, 120_000);
    expect(run.status).toBe('SUCCEEDED');
    expect(world.codexTasksCreated() - tasksBefore).toBe(151);
    const submitted = (await world.events(started.id)).find((e: any) => e.step === 'SUBMIT' && e.to === 'SUCCEEDED');
    expect(submitted.payload.message).toMatch(/^adopted Codex task task_e_\w+ created before a restart \(found by its marker after reading \d+ tasks on 8 pages\)$/);
  }, 180_000);
});

describe('cancel while publishing', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => world?.close());

  const cancel = (runId: string) =>
    gql(world.svc.url, `mutation($id: ID!) { cancelRun(input: { runId: $id, reason: "wrong phase" }) { userErrors { code } } }`, { id: runId }, TOKENS.operator);

  test('during CreatePullRequest: the pull request it opened is closed with a comment, its branch deleted, the outputs say so', async () => {
    let runId = '';
    world.sandbox.github.beforeOperation('CreatePullRequest', async () => {
      expect((await cancel(runId)).body.data.cancelRun.userErrors).toEqual([]);
    });
    const { run: started } = await world.start({ featureId: await world.freshFeature() });
    runId = started.id;
    await expect.poll(async () => (await world.events(runId)).some((e: any) => e.payload?.undone), { timeout: 30_000 }).toBe(true);
    const run = await world.run(runId);
    expect(run.status).toBe('CANCELLED');
    const pr = world.sandbox.github.pullRequests('sandbox/widgets').find((p) => p.headRefName === run.outputs.branch)!;
    expect(run.outputs.pullRequestUrl).toBe(pr.url);
    expect(pr.state).toBe('CLOSED');
    expect(pr.comments?.[0]?.body).toContain(`run \`${runId}\` was cancelled (cancelled: wrong phase)`);
    expect(await branchesOf(world.sandbox.gitRoot + '/sandbox/widgets.git')).not.toContain(run.outputs.branch);
    const undone = (await world.events(runId)).find((e: any) => e.payload?.undone).payload.undone;
    expect(undone).toEqual({ pullRequest: `closed #${pr.number} with a comment`, branch: `deleted ${run.outputs.branch}` });
    expectNoExitFromFinal(await world.events(runId));
  }, 60_000);

  test('during the push: the branch it created is deleted and no pull request is opened', async () => {
    let runId = '';
    world.sandbox.github.beforeOperation('git-receive-pack', async () => {
      await cancel(runId);
    });
    const prsBefore = world.sandbox.github.pullRequests('sandbox/widgets').length;
    // A phase whose branch does not exist yet: the previous test's branch was deleted again.
    const { run: started } = await world.start({ featureId: await world.freshFeature() });
    runId = started.id;
    await expect.poll(async () => (await world.events(runId)).some((e: any) => e.payload?.undone), { timeout: 30_000 }).toBe(true);
    const run = await world.run(runId);
    expect(run.status).toBe('CANCELLED');
    expect(world.sandbox.github.pullRequests('sandbox/widgets').length).toBe(prsBefore);
    expect(await branchesOf(world.sandbox.gitRoot + '/sandbox/widgets.git')).not.toContain(run.outputs.branch);
    const events = await world.events(runId);
    expect(events.find((e: any) => e.payload?.undone).payload.undone).toEqual({ branch: `deleted ${run.outputs.branch}` });
    expect(events.find((e: any) => e.step === null && e.to === 'CANCELLED').payload).toMatchObject({ reason: 'wrong phase' });
  }, 60_000);

  test('a cancel while Codex works says the task is left to finish there, as its API allows no more', async () => {
    world.sandbox.codex.script({ kind: 'implement', pendingPolls: 50 });
    const { run: started } = await world.start({ featureId: await world.freshFeature() });
    const waiting = await world.waitFor(started.id, (r) => r.steps.some((s: any) => s.step === 'APPLY' && s.state === 'WAITING'));
    await cancel(started.id);
    const cancelled = (await world.events(started.id)).find((e: any) => e.step === null && e.to === 'CANCELLED');
    expect(cancelled.payload.codexTask).toBe(
      `Codex task ${waiting.outputs.codexTaskId} was left to finish on Codex Cloud (its task API offers no way to cancel a task); nothing of it will be applied`,
    );
  }, 60_000);
});
