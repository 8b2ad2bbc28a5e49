import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { HEARTBEAT_SECONDS } from '../../src/jobs/queues.js';
import { exited, spawnCli } from '../support/processes.js';
import { addFeatures } from '../support/repo.js';
import { TOKENS } from '../support/service.js';
import { startWorld, type World } from '../support/world.js';

// Separate machines, as far as one machine can show it: every process has its own data folder and shares
// only PostgreSQL (and the emulators, which stand for Codex Cloud and GitHub).

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function untilReady(port: number): Promise<void> {
  for (let i = 0; ; i++) {
    if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)) return;
    if (i > 600) throw new Error(`serve on ${port} did not become ready`);
    await sleep(100);
  }
}

/**
 * Waits until a worker process has just claimed an APPLY (under 300 ms ago): its first outside call, a
 * slow read of the Codex task, is still seconds from done. Returns the worker's id.
 */
async function freshApplyOn(world: World, child: ChildProcess): Promise<string> {
  for (;;) {
    const { rows } = await world.svc.app.db.query<{ worker: string }>(
      `SELECT payload->>'worker' AS worker FROM run_event
        WHERE step = 'APPLY' AND to_state = 'RUNNING' AND payload->>'worker' LIKE $1 AND at > clock_timestamp() - interval '300 milliseconds'
        LIMIT 1`,
      [`${child.pid}-%`],
    );
    if (rows[0]) return rows[0].worker;
    await sleep(5);
  }
}

describe('two serve and three work processes, each with its own data folder', () => {
  const RUNS = 30;
  let world: World;
  let features: string[];
  const folders: string[] = [];
  const serves: { child: ChildProcess; port: number }[] = [];
  const workers: ChildProcess[] = [];
  const env = () => ({ ...world.env, DATABASE_URL: world.databaseUrl });
  const folder = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spec-chain-machine-'));
    folders.push(dir);
    return dir;
  };

  beforeAll(async () => {
    world = await startWorld({ workers: false });
    features = await addFeatures(world.demoRepository, RUNS, 700);
    await world.svc.app.db.query('UPDATE credential_set SET max_concurrent_codex_tasks = $1 WHERE id = $2', [RUNS, world.credentialSetId]);
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      serves.push({ child: spawnCli('serve', { ...env(), DATA_DIR: await folder(), PORT: String(port) }), port });
    }
    for (let i = 0; i < 3; i++) workers.push(spawnCli('work', { ...env(), DATA_DIR: await folder(), WORKER_STOP_GRACE_SECONDS: '1' }));
    await Promise.all(serves.map((s) => untilReady(s.port)));
  }, 120_000);
  afterAll(async () => {
    for (const c of [...workers, ...serves.map((s) => s.child)]) c.kill('SIGKILL');
    await Promise.all([...workers, ...serves.map((s) => s.child)].map(exited));
    await world?.close();
    for (const dir of folders) await rm(dir, { recursive: true, force: true });
  });

  test('30 runs all succeed though one worker is SIGKILLed and one SIGTERMed mid-step; each step ran once; every artifact downloads from both serve processes', async () => {
    // Codex answers reads of a task in 3 s, so an APPLY just claimed is still running well after the 1 s grace.
    world.sandbox.codex.script({ kind: 'slow', delayMs: 3000, method: 'GET', pathPrefix: '/backend-api/wham/tasks/task_', count: 10_000 });
    const started = await Promise.all(features.map((featureId) => world.start({ featureId })));
    expect(started.flatMap((s) => s.userErrors)).toEqual([]);
    const [killed, stopped] = [workers[0]!, workers[1]!];

    const stoppedWorker = await freshApplyOn(world, stopped);
    stopped.kill('SIGTERM');
    const termAt = Date.now();
    await freshApplyOn(world, killed);
    killed.kill('SIGKILL');

    // The stopped worker hands its running steps over after its grace and exits on its own.
    await exited(stopped);
    expect(stopped.exitCode, stopped.output()).toBe(0);
    console.log(`SIGTERMed worker exited ${Date.now() - termAt} ms after the signal`);

    const runs = await Promise.all(started.map((s) => world.waitFor(s.run.id, undefined, 300_000)));
    expect(runs.map((r) => [r.featureId, r.status, r.failure?.code ?? null])).toEqual(runs.map((r) => [r.featureId, 'SUCCEEDED', null]));

    // No step ran twice where it counts: one Codex task and one pull request per run.
    expect(world.codexTasksCreated()).toBe(RUNS);
    expect(world.sandbox.github.requests().filter((r) => r.operationName === 'CreatePullRequest')).toHaveLength(RUNS);
    expect(new Set(world.sandbox.github.pullRequests('sandbox/widgets').map((p) => p.headRefName)).size).toBe(RUNS);

    // Each step the SIGTERMed worker still ran was handed over, said so, and was taken by another worker
    // at once (well inside the heartbeat the lost-worker path waits for), not recovered as lost.
    const { rows: events } = await world.svc.app.db.query<{ run_id: string; step: string; attempt: number; to_state: string; payload: any; at: Date; version: number }>(
      `SELECT run_id, step, attempt, to_state, payload, at, version FROM run_event WHERE step IS NOT NULL ORDER BY run_id, version`,
    );
    const handedOver = events.filter((e) => e.payload?.handedOver === true);
    expect(handedOver.length).toBeGreaterThanOrEqual(1);
    for (const h of handedOver) {
      expect(h.payload.from).toBe(stoppedWorker);
      const next = events.find((e) => e.run_id === h.run_id && e.step === h.step && e.attempt === h.attempt && e.version > h.version && e.to_state === 'RUNNING');
      expect(next, `${h.run_id} ${h.step} picked up again`).toBeDefined();
      expect(next!.payload.recovered).toBeUndefined();
      expect(next!.payload.worker).not.toBe(stoppedWorker);
      expect(next!.at.getTime() - h.at.getTime()).toBeLessThan(HEARTBEAT_SECONDS * 1000);
      console.log(`${h.step} handed over ${h.at.getTime() - termAt} ms after SIGTERM, taken by ${next!.payload.worker} ${next!.at.getTime() - h.at.getTime()} ms later`);
    }
    // No claim of the stopped worker was taken over as lost: the claim before each recovered one was another's.
    const claimBefore = (e: (typeof events)[number]) =>
      events.filter((o) => o.run_id === e.run_id && o.step === e.step && o.attempt === e.attempt && o.to_state === 'RUNNING' && o.version < e.version).at(-1);
    const recoveredFromStopped = events.filter((e) => e.payload?.recovered && claimBefore(e)?.payload?.worker === stoppedWorker);
    expect(recoveredFromStopped).toEqual([]);
    // The SIGKILLed worker's step was recovered through the lost-worker path.
    expect(events.some((e) => e.payload?.recovered === true)).toBe(true);

    // Every stored artifact of every run, from both serve processes (neither ran any of the steps).
    const artifacts = runs.flatMap((r) => r.artifacts.filter((a: any) => a.url.startsWith('/artifacts/')));
    expect(artifacts.length).toBeGreaterThanOrEqual(RUNS * 5);
    for (const { port } of serves) {
      for (const a of artifacts) {
        const response = await fetch(`http://127.0.0.1:${port}${a.url}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
        expect(response.status, a.url).toBe(200);
        expect(sha256(Buffer.from(await response.arrayBuffer())), `${a.kind} ${a.url}`).toBe(a.sha256);
      }
    }
  }, 400_000);
});

describe('a worker SIGKILLed inside the transaction that writes a step\'s artifacts', () => {
  let world: World;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    world = await startWorld({ workers: false });
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await world?.close();
  });

  test('leaves no half artifact visible; another worker finishes the run with the whole patch', async () => {
    const worker = () => {
      const child = spawnCli('work', { ...world.env, DATABASE_URL: world.databaseUrl });
      children.push(child);
      return child;
    };
    const first = worker();
    // A 5 MB patch, and a slow read of the task so APPLY is still running when the test steps in.
    const lines = Array.from({ length: 75_000 }, (_, i) => `+generated line ${String(i).padStart(8, '0')} of a large patch that takes many chunks\n`).join('');
    const diff = `diff --git a/src/big.txt b/src/big.txt\nnew file mode 100644\n--- /dev/null\n+++ b/src/big.txt\n@@ -0,0 +1,75000 @@\n${lines}`;
    world.sandbox.codex.script({ kind: 'diff', diff }, { kind: 'slow', delayMs: 1500, method: 'GET', pathPrefix: '/backend-api/wham/tasks/task_', count: 5 });
    const { run: started } = await world.start({ featureId: await world.freshFeature() });
    await world.waitFor(started.id, (r) => r.steps.some((s: any) => s.step === 'APPLY' && s.state === 'RUNNING'));

    // Hold the APPLY attempt's row: the completing transaction writes the patch's chunks, then waits here
    // for its UPDATE of the attempt, with everything written and nothing committed.
    const holder = new pg.Client({ connectionString: world.databaseUrl });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM step_attempt WHERE run_id = $1 AND step = 'APPLY' FOR UPDATE`, [started.id]);
    // A backend that inserted artifact chunks in its open transaction and now waits for a lock.
    for (;;) {
      const { rows } = await world.svc.app.db.query(
        `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.relation = 'artifact_chunk'::regclass AND l.granted AND a.wait_event_type = 'Lock'`,
      );
      if (rows.length) break;
      await sleep(10);
    }
    first.kill('SIGKILL');
    await exited(first);
    await holder.query('ROLLBACK');
    await holder.end();

    // Nothing of the patch is visible: no row, no chunk.
    const patchRows = await world.svc.app.db.query(`SELECT 1 FROM workflow_artifact WHERE run_id = $1 AND kind = 'PATCH'`, [started.id]);
    expect(patchRows.rows).toEqual([]);
    // What is visible is whole: each stored artifact downloads with its recorded digest.
    const stored = (await world.run(started.id)).artifacts.filter((a: any) => a.url.startsWith('/artifacts/'));
    expect(stored.length).toBeGreaterThan(0);
    for (const a of stored) {
      const body = Buffer.from(await (await fetch(`${world.svc.url}${a.url}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } })).arrayBuffer());
      expect(sha256(body), a.kind).toBe(a.sha256);
    }

    worker();
    const run = await world.waitFor(started.id, undefined, 120_000);
    expect(run.status).toBe('SUCCEEDED');
    const patch = run.artifacts.find((a: any) => a.kind === 'PATCH');
    const body = Buffer.from(await (await fetch(`${world.svc.url}${patch.url}`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } })).arrayBuffer());
    expect(body.toString()).toBe(diff);
    expect(sha256(body)).toBe(patch.sha256);
  }, 200_000);
});
