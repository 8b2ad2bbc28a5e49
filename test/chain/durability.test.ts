import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { exited, spawnCli } from '../support/processes.js';
import { expectGapless, startWorld, type World } from '../support/world.js';

// Workers here are separate processes (`spec-chain work`), so they can be killed for real.
let world: World;
const children: ChildProcess[] = [];
beforeAll(async () => {
  world = await startWorld({ workers: false });
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await exited(c);
  }
});
afterAll(async () => world?.close());

function worker() {
  const child = spawnCli('work', { ...world.env, DATABASE_URL: world.databaseUrl });
  children.push(child);
  return child;
}

async function stepRunning(runId: string, step: string): Promise<void> {
  for (;;) {
    const rows = await world.svc.app.ds.query(`SELECT 1 FROM step_attempt WHERE run_id = $1 AND step = $2 AND state = 'RUNNING'`, [runId, step]);
    if (rows.length) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

test.each(['DISCOVER', 'SUBMIT', 'PUBLISH'])(
  'a worker SIGKILLed during %s: another worker finishes the run; one Codex task, one branch, one pull request',
  async (step) => {
    const tasksBefore = world.codexTasksCreated();
    const prsBefore = world.sandbox.github.pullRequests('sandbox/widgets').length;
    const first = worker();
    if (step === 'PUBLISH') {
      // The nastiest moment: the branch is pushed, the pull request not yet created.
      world.sandbox.github.beforeOperation('CreatePullRequest', () => first.kill('SIGKILL'));
      world.sandbox.github.beforeOperation('UpdatePullRequest', () => first.kill('SIGKILL'));
    }
    const { run: started } = await world.start({ featureId: await world.freshFeature() });
    if (step === 'SUBMIT') {
      // Killed the moment the task is created, before the step can record it: the next try must adopt it.
      for (;;) {
        if (world.codexTasksCreated() > tasksBefore) break;
        await new Promise((r) => setImmediate(r));
      }
      first.kill('SIGKILL');
    } else if (step === 'DISCOVER') {
      await stepRunning(started.id, step);
      first.kill('SIGKILL');
    }
    await exited(first);
    worker();

    const run = await world.waitFor(started.id, undefined, 90_000);
    expect(run.failure).toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    expect(world.codexTasksCreated() - tasksBefore).toBe(1);
    const prs = world.sandbox.github.pullRequests('sandbox/widgets');
    expect(prs.filter((p) => p.headRefName === run.outputs.branch)).toHaveLength(1);
    expect(prs.length - prsBefore).toBeLessThanOrEqual(1);
    const events = await world.events(started.id);
    expectGapless(events);
    if (step === 'DISCOVER') {
      // The events say the step was picked up again after its worker was lost.
      expect(events.some((e: any) => e.step === 'DISCOVER' && e.from === 'RUNNING' && e.to === 'RUNNING' && e.payload.recovered)).toBe(true);
    }
  },
  120_000,
);
