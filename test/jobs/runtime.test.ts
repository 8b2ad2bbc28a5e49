import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeApp, migrate, openApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createCredentialSet } from '../../src/credential-sets/store.js';
import { inTransaction } from '../../src/db/transaction.js';
import { FailureCode, FailureKind, RunStatus, Step, StepState } from '../../src/interfaces.js';
import { failLostStep } from '../../src/jobs/outcomes.js';
import { QUEUE, type StepJob } from '../../src/jobs/queues.js';
import { runStepJob } from '../../src/jobs/runner.js';
import { standardPolicy, StepFailure, type StepDefinition, type StepWork } from '../../src/jobs/step.js';
import { createLogger } from '../../src/log.js';
import { transient } from '../../src/providers/errors.js';
import { cancelRun } from '../../src/runs/cancel.js';
import { latestAttempts, readAttempt } from '../../src/runs/db/attempts.js';
import { eventsOfRun } from '../../src/runs/db/events.js';
import { readRun } from '../../src/runs/db/runs.js';
import { createRun } from '../../src/runs/start.js';
import { createTestDatabase } from '../support/database.js';

// The chain runtime on its own: claim, the verbs and the fence, with fake step work in place of the
// real steps, on a real PostgreSQL and pg-boss. The end-to-end tests run the real steps.

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let app: App;
let credentialSetId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: '.data/test', STEP_RETRY_LIMIT: '2' });
  app = await openApp(config, createLogger('silent'), db.url, { supervise: false });
  await migrate(app);
  const { credentialSet } = await createCredentialSet(app.ds, { name: 'runtime', codexAuthRef: 'env:UNUSED_CODEX', githubTokenRef: 'env:UNUSED_GITHUB', codexEnvironment: 'env' });
  credentialSetId = credentialSet!.id;
});
afterAll(async () => {
  await closeApp(app);
  await db.drop();
});

/** A step with fake work, as the runtime sees any step. */
const fake = (run: StepWork, policy: Partial<ReturnType<typeof standardPolicy>> = {}): StepDefinition => ({
  step: Step.DISCOVER,
  policy: (config) => ({ ...standardPolicy(config, 60), ...policy }),
  run,
});

let runs = 0;
/** A new run with its DISCOVER job queued; returns the run id and the job as a worker would fetch it. */
async function queuedRun(): Promise<{ runId: string; job: { id: string; data: StepJob; signal: AbortSignal } }> {
  const { runId } = await inTransaction(app.db, (tx) =>
    createRun(tx, app.boss, {
      repository: 'acme/runtime',
      featureId: `00${++runs}-runtime`,
      baseBranch: 'main',
      credentialSetId,
      codexEnvironment: 'env',
      codexBestOfN: 1,
      idempotencyKey: null,
      sandbox: false,
      retryOf: null,
      stack: false,
      phaseRequest: null,
      confirmRedo: false,
      notes: null,
    }),
  );
  const attempt = (await readAttempt(app.db, runId, Step.DISCOVER, 1))!;
  return { runId, job: { id: attempt.jobId!, data: { runId, step: Step.DISCOVER, attempt: 1 }, signal: new AbortController().signal } };
}

const run = (id: string) => readRun(app.db, id);
const attemptOf = async (id: string, step = Step.DISCOVER) => (await latestAttempts(app.db, id)).find((a) => a.step === step)!;
const events = (id: string) => eventsOfRun(app.db, id);

describe('the runner settles each outcome with one verb', () => {
  test('done: outputs written, SUCCEEDED, the next step queued and the run at it', async () => {
    const { runId, job } = await queuedRun();
    await runStepJob(app, fake(async () => ({ kind: 'done', message: 'found it', outputs: { tasksPath: 'specs/x/tasks.md' } })), job);
    expect(await attemptOf(runId)).toMatchObject({ state: StepState.SUCCEEDED, message: 'found it', claim: null, tries: 1 });
    expect(await attemptOf(runId, Step.SUBMIT)).toMatchObject({ state: StepState.QUEUED, attempt: 1 });
    expect(await run(runId)).toMatchObject({ status: RunStatus.RUNNING, currentStep: Step.SUBMIT, tasksPath: 'specs/x/tasks.md' });
    expect((await events(runId)).map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('wait: WAITING, the same attempt queued again after the policy\'s pause; past the deadline it fails with the policy\'s code', async () => {
    const { runId, job } = await queuedRun();
    const poll = { firstMs: 60_000, maxMs: 60_000, factor: 1, deadlineMs: 60 * 60_000, code: FailureCode.CODEX_TIMEOUT };
    const before = Date.now();
    await runStepJob(app, fake(async () => ({ kind: 'wait', message: 'not yet', payload: { polls: 1 } }), { poll }), job);
    const waiting = await attemptOf(runId);
    expect(waiting).toMatchObject({ state: StepState.WAITING, attempt: 1 });
    expect(waiting.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(before + 0.8 * 60_000);
    expect(waiting.jobId).not.toBe(job.id);
    const next = { ...job, id: waiting.jobId! };
    await runStepJob(app, fake(async () => ({ kind: 'wait', message: 'still not', payload: { polls: 2 } }), { poll: { ...poll, deadlineMs: 0 } }), next);
    expect(await run(runId)).toMatchObject({ status: RunStatus.FAILED, failureCode: FailureCode.CODEX_TIMEOUT, failureStep: Step.DISCOVER });
  });

  test('a transient failure is tried again with backoff while tries are left, then fails the run', async () => {
    const { runId, job } = await queuedRun();
    const flaky = fake(async () => {
      throw transient(FailureCode.SERVICE_UNAVAILABLE, 'the service answered 502');
    }, { backoff: { baseMs: 10, maxMs: 10 } });
    let current = job;
    for (let tries = 1; tries <= 2; tries++) {
      await runStepJob(app, flaky, current);
      const retrying = await attemptOf(runId);
      expect(retrying).toMatchObject({ state: StepState.RETRYING, tries, waitReason: 'RETRY_BACKOFF', payload: expect.objectContaining({ failures: tries, retriesLeft: 2 - tries }) });
      current = { ...job, id: retrying.jobId! };
    }
    await runStepJob(app, flaky, current);
    expect(await attemptOf(runId)).toMatchObject({ state: StepState.FAILED, tries: 3 });
    expect(await run(runId)).toMatchObject({ status: RunStatus.FAILED, failureCode: FailureCode.SERVICE_UNAVAILABLE, failureResumable: true });
  });

  test('a permanent failure fails the run at once with its artifacts and the remediation', async () => {
    const { runId, job } = await queuedRun();
    await runStepJob(app, fake(async () => {
      throw new StepFailure(FailureCode.SPEC_INVALID, 'tasks.md:3: no tasks', [{ kind: 'PROMPT' as never, location: 'https://example.invalid/x' }]);
    }), job);
    const failed = await run(runId);
    expect(failed).toMatchObject({ status: RunStatus.FAILED, failureCode: FailureCode.SPEC_INVALID, failureMessage: 'tasks.md:3: no tasks', failureResumable: false });
    expect(failed!.failureRemediation).toContain('Fix tasks.md');
  });

  test('no work: SUCCEEDED, every later step SKIPPED, the run NO_WORK', async () => {
    const { runId, job } = await queuedRun();
    await runStepJob(app, fake(async () => ({ kind: 'no-work', message: 'nothing open' })), job);
    expect((await latestAttempts(app.db, runId)).map((a) => [a.step, a.state])).toEqual([
      [Step.DISCOVER, StepState.SUCCEEDED],
      [Step.SUBMIT, StepState.SKIPPED],
      [Step.APPLY, StepState.SKIPPED],
      [Step.PUBLISH, StepState.SKIPPED],
      [Step.FINALIZE, StepState.SKIPPED],
    ]);
    expect(await run(runId)).toMatchObject({ status: RunStatus.NO_WORK, currentStep: null });
  });
});

describe('the fence', () => {
  test('a worker whose attempt was taken over meanwhile writes nothing but an event saying its result was dropped', async () => {
    const { runId, job } = await queuedRun();
    await runStepJob(app, fake(async () => {
      // Another worker claims the attempt while this one works (this one was paused past its heartbeat).
      await app.db.query(`UPDATE step_attempt SET claim = gen_random_uuid(), worker_id = 'someone-else' WHERE run_id = $1`, [runId]);
      return { kind: 'done', message: 'late', outputs: { tasksPath: 'late/tasks.md' } };
    }), job);
    expect(await attemptOf(runId)).toMatchObject({ state: StepState.RUNNING, workerId: 'someone-else' });
    expect(await run(runId)).toMatchObject({ status: RunStatus.RUNNING, tasksPath: null });
    expect(await attemptOf(runId, Step.SUBMIT)).toBeUndefined();
    expect((await events(runId)).at(-1)).toMatchObject({ step: Step.DISCOVER, fromState: 'RUNNING', toState: 'RUNNING', payload: expect.objectContaining({ stale: true }) });
  });

  test('guard() stops a worker that lost its claim before it creates anything outside', async () => {
    const { runId, job } = await queuedRun();
    let created = false;
    await runStepJob(app, fake(async ({ guard }) => {
      await app.db.query(`UPDATE step_attempt SET claim = gen_random_uuid() WHERE run_id = $1`, [runId]);
      await guard();
      created = true;
      return { kind: 'done', message: 'never' };
    }), job);
    expect(created).toBe(false);
    expect((await events(runId)).at(-1)!.payload).toMatchObject({ stale: true });
  });

  test('a job superseded by a newer one for the same attempt is not run at all', async () => {
    const { runId, job } = await queuedRun();
    let ran = false;
    await runStepJob(app, fake(async () => ((ran = true), { kind: 'done', message: 'x' })), { ...job, id: '00000000-0000-4000-8000-000000000000' });
    expect(ran).toBe(false);
    expect(await attemptOf(runId)).toMatchObject({ state: StepState.QUEUED, tries: 0 });
  });

  test('a run cancelled while its step works: the attempt ends CANCELLED, the outputs it made are kept, nothing is queued', async () => {
    const { runId, job } = await queuedRun();
    await runStepJob(app, fake(async () => {
      await cancelRun(app, runId, 'changed my mind');
      return { kind: 'done', message: 'made a branch', outputs: { branch: 'spec-chain/x/phase-1' } };
    }), job);
    expect(await attemptOf(runId)).toMatchObject({ state: StepState.CANCELLED });
    expect(await run(runId)).toMatchObject({ status: RunStatus.CANCELLED, branch: 'spec-chain/x/phase-1' });
    expect(await attemptOf(runId, Step.SUBMIT)).toBeUndefined();
    // No transition ever leaves a final state.
    const finalStates = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'NO_WORK', 'SKIPPED'];
    for (const e of await events(runId)) if (e.fromState && finalStates.includes(e.fromState)) expect(e.toState).toBe(e.fromState);
  });

  test('a try that runs past its timeout is stopped through its signal and tried again', async () => {
    const { runId, job } = await queuedRun();
    await runStepJob(app, fake(({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))), { timeoutSeconds: 1 }), job);
    expect(await attemptOf(runId)).toMatchObject({ state: StepState.RETRYING, message: 'The step ran longer than its 1 s limit and was stopped.' });
  });

  test('the lost-worker path fails an unfinished attempt WORKER_LOST, and leaves a finished one alone', async () => {
    const { runId, job } = await queuedRun();
    const lost = { code: FailureCode.WORKER_LOST, kind: FailureKind.TRANSIENT, message: 'lost its worker' };
    expect((await failLostStep(app, job.data, lost)).landed).toBe(true);
    expect(await run(runId)).toMatchObject({ status: RunStatus.FAILED, failureCode: FailureCode.WORKER_LOST, failureResumable: true });
    const done = await queuedRun();
    await runStepJob(app, fake(async () => ({ kind: 'no-work', message: 'nothing' })), done.job);
    expect(await failLostStep(app, done.job.data, lost)).toEqual({ version: null, landed: false });
    expect((await run(done.runId))!.status).toBe(RunStatus.NO_WORK);
  });
});

test('the step queues carry each step\'s expiry above its timeout, so a healthy long step is not taken over', async () => {
  const queue = await app.boss.getQueue(QUEUE[Step.PUBLISH]);
  expect(queue).toMatchObject({ heartbeatSeconds: 10, retryDelay: 0 });
  expect(queue!.expireInSeconds).toBeGreaterThan(30 * 60);
});
