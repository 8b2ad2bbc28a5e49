import { afterAll, beforeAll, expect, test } from 'vitest';
import { addFeatures } from '../support/repo.js';
import { startWorld, type World } from '../support/world.js';

// Issue 13, fairness: every step queue serves credential sets (and repositories) in turn, so a backlog
// of one set holds a single run of another back by at most one step's time at each queue.

let world: World;
let features: string[];
beforeAll(async () => {
  // Two jobs per queue at once: a backlog of 50 runs is many rounds deep at every step.
  world = await startWorld({ env: { WORKER_CONCURRENCY: '2' } });
  features = await addFeatures(world.demoRepository, 51, 500);
});
afterAll(async () => world?.close());

interface Attempt {
  step: string;
  queued: number;
  started: number;
  finished: number;
}

async function attemptsOf(runIds: string[]): Promise<Map<string, Attempt[]>> {
  const { rows } = await world.svc.app.db.query<{ run_id: string; step: string; queued_at: Date; started_at: Date; finished_at: Date }>(
    `SELECT run_id, step, queued_at, started_at, finished_at FROM step_attempt WHERE run_id = ANY($1::uuid[]) AND started_at IS NOT NULL ORDER BY step`,
    [runIds],
  );
  const byRun = new Map<string, Attempt[]>();
  for (const r of rows) {
    const list = byRun.get(r.run_id) ?? [];
    list.push({ step: r.step, queued: r.queued_at.getTime(), started: r.started_at.getTime(), finished: r.finished_at.getTime() });
    byRun.set(r.run_id, list);
  }
  return byRun;
}

test('50 runs of set A queued, then one of set B: at every step B waits no longer than one step of A takes', async () => {
  const a = await world.addCredentialSet('backlog-a');
  const b = await world.addCredentialSet('single-b');
  const backlog: string[] = [];
  for (const featureId of features.slice(0, 50)) backlog.push((await world.start({ featureId, credentialSetId: a })).run.id);
  const single = (await world.start({ featureId: features[50], credentialSetId: b })).run.id;

  expect((await world.waitFor(single, undefined, 120_000)).status).toBe('SUCCEEDED');
  const backlogDoneBefore = (await Promise.all(backlog.map((id) => world.run(id)))).filter((r) => r.status === 'SUCCEEDED').length;
  for (const id of backlog) expect((await world.waitFor(id, undefined, 300_000)).status).toBe('SUCCEEDED');

  const attempts = await attemptsOf([...backlog, single]);
  const longestOf = (step: string) =>
    Math.max(...backlog.flatMap((id) => attempts.get(id)!.filter((x) => x.step === step).map((x) => x.finished - x.started)));
  for (const x of attempts.get(single)!) {
    const waited = x.started - x.queued;
    // One step of A at that queue, plus a little for the wake-up and the claim itself.
    expect(waited, `${x.step}: B waited ${waited} ms; one A ${x.step} takes up to ${longestOf(x.step)} ms`).toBeLessThanOrEqual(longestOf(x.step) + 500);
  }
  // Without turns B would have waited behind the whole backlog; here most of it was still to come.
  expect(backlogDoneBefore).toBeLessThan(25);
}, 400_000);
