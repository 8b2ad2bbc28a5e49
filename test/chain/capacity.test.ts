import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { addFeatures } from '../support/repo.js';
import { exited, spawnCli } from '../support/processes.js';
import { gql, TOKENS } from '../support/service.js';
import { wakeCodexLine } from '../../src/jobs/capacity.js';
import { until } from '../support/until.js';
import { startWorld, type World } from '../support/world.js';

// Issue 13: a credential set's Codex tasks in flight are capped across every worker, runs over the
// cap wait at SUBMIT in order of arrival and say so, and limits are shared by everyone using a credential.

const WAITING = `query($id: ID!) { run(id: $id) { id status waitingFor { reason position since until message }
  steps { step state waitingFor { reason position } } } }`;

/** The most of these runs' Codex tasks the emulator had in flight at once: from create until a poll first saw it finished. */
function peakInFlight(world: World, runIds: string[]): number {
  const tasks = world.sandbox.codex.tasks().filter((t) => runIds.some((id) => t.prompt.includes(`spec-chain-run: ${id}`)));
  const edges = tasks.flatMap((t) => [
    { at: t.createdAt, d: 1 },
    { at: t.seenFinishedAt ?? Infinity, d: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let peak = 0;
  for (const e of edges) peak = Math.max(peak, (now += e.d));
  return peak;
}

/** Runs `starts` one after another, then watches each until it ends, recording every CODEX_CAPACITY position it showed. */
async function runAll(world: World, credentialSetId: string, features: string[]) {
  const runIds: string[] = [];
  for (const featureId of features) runIds.push((await world.start({ featureId, credentialSetId })).run.id);
  const positions = new Map<string, number[]>(runIds.map((id) => [id, []]));
  const deadline = Date.now() + 150_000;
  for (;;) {
    const runs = await Promise.all(runIds.map(async (id) => (await gql(world.svc.url, WAITING, { id }, TOKENS.viewer)).body.data.run));
    for (const r of runs) {
      if (r.waitingFor?.reason === 'CODEX_CAPACITY') positions.get(r.id)!.push(r.waitingFor.position);
    }
    if (runs.every((r: any) => !['QUEUED', 'RUNNING'].includes(r.status))) return { runIds, runs, positions };
    if (Date.now() > deadline) throw new Error(`runs still going: ${JSON.stringify(runs.map((r: any) => [r.status, r.waitingFor]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The order runs arrived at SUBMIT in, and the order they took their Codex slots in (as the SUBMIT that took one recorded it). */
async function slotOrder(world: World, runIds: string[]) {
  const { rows } = await world.svc.app.db.query<{ run_id: string }>(
    `SELECT run_id FROM step_attempt WHERE step = 'SUBMIT' AND run_id = ANY($1::uuid[]) ORDER BY queued_at, run_id`,
    [runIds],
  );
  const { rows: taken } = await world.svc.app.db.query<{ run_id: string; at: string }>(
    `SELECT run_id, payload->>'codexSlotTakenAt' AS at FROM step_attempt
      WHERE step = 'SUBMIT' AND state = 'SUCCEEDED' AND payload ? 'codexSlotTakenAt' AND run_id = ANY($1::uuid[])`,
    [runIds],
  );
  const arrived = rows.map((r) => r.run_id);
  // Slots taken in the same millisecond count in order of arrival.
  const slots = taken.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || arrived.indexOf(a.run_id) - arrived.indexOf(b.run_id)).map((r) => r.run_id);
  return { arrived, slots };
}

/**
 * A slot goes to a run only when one is left after every earlier arrival has had one. So when k slots
 * (counting from 0) have gone before, the taker is among the first k + limit arrivals: runs that find
 * slots free take them in any order, but a run waiting in line is never passed by more than that.
 */
function expectArrivalOrder({ arrived, slots }: Awaited<ReturnType<typeof slotOrder>>, limit: number) {
  expect([...slots].sort()).toEqual([...arrived].sort());
  for (const [k, runId] of slots.entries()) expect(arrived.indexOf(runId), `slot ${k} went to arrival ${arrived.indexOf(runId)}`).toBeLessThan(k + limit);
}

function expectCapacityHeld(result: Awaited<ReturnType<typeof runAll>>, world: World, limit: number) {
  for (const r of result.runs) expect(r.status, JSON.stringify(r)).toBe('SUCCEEDED');
  expect(peakInFlight(world, result.runIds)).toBeLessThanOrEqual(limit);
  expect(peakInFlight(world, result.runIds)).toBe(limit);
  const waited = [...result.positions.values()].filter((p) => p.length > 0);
  expect(waited.length).toBeGreaterThanOrEqual(result.runIds.length - limit - 1);
  // A place in line only ever gets closer to the front.
  for (const p of waited) for (let i = 1; i < p.length; i++) expect(p[i]).toBeLessThanOrEqual(p[i - 1]!);
}

describe('maxConcurrentCodexTasks', () => {
  let world: World;
  let features: string[];
  beforeAll(async () => {
    world = await startWorld({ env: { WORKER_CONCURRENCY: '8' } });
    features = await addFeatures(world.demoRepository, 12);
  });
  afterAll(async () => world?.close());

  test('12 runs on a set allowed 3 tasks, with a slow Codex: never more than 3 in flight, the rest wait in line and take slots in order of arrival', async () => {
    const setId = await world.addCredentialSet('three-at-a-time', { maxConcurrentCodexTasks: 3 });
    world.sandbox.codex.script(...features.map(() => ({ kind: 'implement' as const, pendingPolls: 3 })));
    const result = await runAll(world, setId, features);
    expectCapacityHeld(result, world, 3);
    expectArrivalOrder(await slotOrder(world, result.runIds), 3);
  }, 200_000);
});

describe('maxConcurrentCodexTasks with two worker processes', () => {
  let world: World;
  let features: string[];
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    world = await startWorld({ workers: false });
    features = await addFeatures(world.demoRepository, 12, 200);
    for (let i = 0; i < 2; i++) children.push(spawnCli('work', { ...world.env, DATABASE_URL: world.databaseUrl, WORKER_CONCURRENCY: '8' }));
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await world?.close();
  });

  test('the limit holds across processes, through Postgres', async () => {
    const setId = await world.addCredentialSet('three-across-workers', { maxConcurrentCodexTasks: 3 });
    world.sandbox.codex.script(...features.map(() => ({ kind: 'implement' as const, pendingPolls: 3 })));
    const result = await runAll(world, setId, features);
    expectCapacityHeld(result, world, 3);
    expectArrivalOrder(await slotOrder(world, result.runIds), 3);
    const workers = await world.svc.app.db.query(`SELECT count(DISTINCT worker_id)::int AS n FROM step_attempt WHERE run_id = ANY($1::uuid[])`, [result.runIds]);
    expect(workers.rows[0].n).toBe(2);
  }, 200_000);
});

describe('waking the line of a credential set', () => {
  let world: World;
  let features: string[];
  beforeAll(async () => {
    world = await startWorld();
    features = await addFeatures(world.demoRepository, 2, 300);
  });
  afterAll(async () => world?.close());

  // Seen in the chain benchmark with 100 runs in flight: APPLY gave its slot back, woke the line, and the
  // wake wrote the woken run's attempt before its run row while a worker claiming that attempt held the
  // run row and wrote the attempt: PostgreSQL broke the deadlock by failing the APPLY, and the run FAILED.
  test('takes the woken run\'s row before its attempt, as a worker claiming the attempt does: the two never deadlock', async () => {
    const setId = await world.addCredentialSet('one-at-a-time', { maxConcurrentCodexTasks: 1 });
    world.sandbox.codex.script({ kind: 'implement', pendingPolls: 1000 });
    const first = (await world.start({ featureId: features[0], credentialSetId: setId })).run.id;
    await until(async () => (await world.svc.app.db.query(`SELECT 1 FROM codex_slot WHERE run_id = $1`, [first])).rowCount === 1, 'the first run to take the slot');
    const waiting = (await world.start({ featureId: features[1], credentialSetId: setId })).run.id;
    const attempt = async () =>
      (await world.svc.app.db.query<{ attempt: number; state: string; wait_reason: string | null }>(
        `SELECT attempt, state, wait_reason FROM step_attempt WHERE run_id = $1 AND step = 'SUBMIT' ORDER BY attempt DESC LIMIT 1`,
        [waiting],
      )).rows[0];
    await until(async () => (await attempt())?.wait_reason === 'CODEX_CAPACITY', 'the second run to wait for a slot');
    const { attempt: number } = (await attempt())!;
    // A second slot, written straight to the table so that only the wake below looks at the line.
    await world.svc.app.db.query('UPDATE credential_set SET max_concurrent_codex_tasks = 2 WHERE id = $1', [setId]);

    // A worker's claim of the waiting attempt, held open: the run row first (claim.ts), then the attempt.
    const claim = await world.svc.app.db.connect();
    try {
      await claim.query('BEGIN');
      await claim.query('SELECT id FROM spec_workflow_run WHERE id = $1 FOR UPDATE', [waiting]);
      const woken = wakeCodexLine(world.svc.app, setId).then(
        () => null,
        (err: Error) => err,
      );
      // The wake is blocked on a lock of ours (before the fix: the run row, with the attempt row already taken).
      await until(async () => (await world.svc.app.db.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
      )).rowCount! > 0, 'the wake to wait for a lock');
      await claim.query(`UPDATE step_attempt SET state = 'RUNNING', wait_reason = NULL WHERE run_id = $1 AND step = 'SUBMIT' AND attempt = $2`, [waiting, number]);
      await claim.query('COMMIT');
      expect(await woken).toBeNull();
    } finally {
      claim.release();
    }
    // The wake saw the attempt claimed and left it to its worker instead of queueing it again.
    expect(await attempt()).toMatchObject({ attempt: number, state: 'RUNNING' });
  }, 60_000);
});

describe('limits shared by everyone using a credential', () => {
  let world: World;
  let features: string[];
  beforeAll(async () => {
    world = await startWorld();
    features = await addFeatures(world.demoRepository, 4, 300);
  });
  afterEach(() => world.sandbox.github.reset());
  afterAll(async () => world?.close());

  test('a Codex 429 with retry-after pauses that credential set\'s submits only; another set keeps going', async () => {
    const a = await world.addCredentialSet('set-a');
    const b = await world.addCredentialSet('set-b');
    world.sandbox.codex.script({ kind: 'http-error', status: 429, retryAfterSeconds: 8, method: 'POST', path: '/backend-api/wham/tasks', message: 'Too many tasks' });
    const limitedAt = Date.now();
    const a1 = (await world.start({ featureId: features[0], credentialSetId: a })).run.id;
    await world.waitFor(a1, (r) => r.steps.some((s: any) => s.step === 'SUBMIT' && s.state === 'WAITING'));
    const a2 = (await world.start({ featureId: features[1], credentialSetId: a })).run.id;
    const b1 = (await world.start({ featureId: features[2], credentialSetId: b })).run.id;
    const waiting = await (async () => {
      for (;;) {
        const r = (await gql(world.svc.url, WAITING, { id: a2 }, TOKENS.viewer)).body.data.run;
        if (r.waitingFor?.reason === 'CODEX_RATE_LIMITED') return r.waitingFor;
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    expect(new Date(waiting.until).getTime()).toBeGreaterThanOrEqual(limitedAt + 7000);
    expect(waiting.message).toContain('set-a');
    const bDone = await world.waitFor(b1);
    expect(bDone.status).toBe('SUCCEEDED');
    // Set B finished while set A was still held back.
    expect(Date.now()).toBeLessThan(new Date(waiting.until).getTime());
    for (const id of [a1, a2]) expect((await world.waitFor(id, undefined, 60_000)).status).toBe('SUCCEEDED');
    const aTasks = world.sandbox.codex.tasks().filter((t) => [a1, a2].some((id) => t.prompt.includes(`spec-chain-run: ${id}`)));
    for (const t of aTasks) expect(t.createdAt).toBeGreaterThanOrEqual(new Date(waiting.until).getTime() - 50);
  }, 120_000);
});

describe('one GitHub token, two worker processes', () => {
  let world: World;
  let features: string[];
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    world = await startWorld({ workers: false });
    features = await addFeatures(world.demoRepository, 6, 400);
    for (let i = 0; i < 2; i++) children.push(spawnCli('work', { ...world.env, DATABASE_URL: world.databaseUrl, GITHUB_MUTATION_INTERVAL_MS: '1000' }));
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await world?.close();
  });

  test('mutations reach GitHub at least the spacing apart, and a secondary-limit answer pauses both workers until its time', async () => {
    world.sandbox.github.inject({ kind: 'SECONDARY_RATE_LIMIT', operation: 'CreatePullRequest', retryAfterSeconds: 6 });
    const runIds: string[] = [];
    for (const featureId of features) runIds.push((await world.start({ featureId })).run.id);
    for (const id of runIds) expect((await world.waitFor(id, undefined, 150_000)).status).toBe('SUCCEEDED');

    const requests = world.sandbox.github.requests().filter((r) => r.kind === 'graphql');
    const mutations = requests.filter((r) => r.operationType === 'mutation');
    expect(mutations.length).toBeGreaterThanOrEqual(features.length);
    for (let i = 1; i < mutations.length; i++) expect(mutations[i]!.at - mutations[i - 1]!.at, `mutation ${i}`).toBeGreaterThanOrEqual(1000);
    const limited = requests.find((r) => r.fault === 'SECONDARY_RATE_LIMIT')!;
    // Once the pause was stored, no mutation went to GitHub for this token until the time it named, from
    // either worker: the next one looks at the pause after the limited one let go of the mutation lock. A
    // query that had looked just before the pause was stored may still arrive, but at most one per run
    // (each run's step stops at its next look and waits).
    const block = await world.svc.app.db.query<{ at: Date }>(
      `SELECT updated_at AS at FROM credential_limit WHERE key LIKE 'github:%' AND key NOT LIKE '%:mutations' AND reason LIKE 'secondary%'`,
    );
    expect(block.rowCount).toBe(1);
    const during = requests.filter((r) => r.at > block.rows[0]!.at.getTime() && r.at < limited.at + 6000);
    expect(during.filter((r) => r.operationType === 'mutation')).toEqual([]);
    expect(during.length).toBeLessThanOrEqual(features.length);
    const waited = await world.svc.app.db.query(
      `SELECT 1 FROM run_event WHERE run_id = ANY($1::uuid[]) AND payload->>'waitingFor' = 'GITHUB_RATE_LIMITED'`,
      [runIds],
    );
    expect(waited.rowCount).toBeGreaterThanOrEqual(1);
  }, 200_000);
});
