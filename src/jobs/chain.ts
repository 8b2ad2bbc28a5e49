import type { Job } from 'pg-boss';
import type { App } from '../app.js';
import { inTransaction } from '../db/transaction.js';
import { CredentialSet } from '../entities/index.js';
import { FailureCode, FailureKind, FINAL_RUN_STATUSES, RunStatus, Step, STEP_ORDER, StepState } from '../interfaces.js';
import { ProviderError } from '../providers/errors.js';
import { createProviders } from '../providers/index.js';
import { ArtifactStore, recordArtifacts } from '../runs/artifacts.js';
import { announce } from '../runs/events.js';
import { remediationFor } from '../runs/remediation.js';
import { enqueueStep, type StepJob } from '../runs/start.js';
import { getStep, isFinalStep, lockRun, moveRun, moveStep, nextAttempt, updateRun, type Run, type StepRow } from '../runs/transitions.js';
import { StepFailure, type StepResult, type StepWork } from './step.js';
import { apply } from './apply.js';
import { discover } from './discover.js';
import { finalize } from './finalize.js';
import { publish } from './publish.js';
import { submit } from './submit.js';
import { QUEUE } from './boss.js';
import { startLostWorker } from './lost.js';
import { Listener } from '../db/listener.js';
import { CANCEL_CHANNEL } from '../runs/cancel.js';

/** Each step's own work; everything around it is below. */
export const STEPS: Record<Step, StepWork> = {
  [Step.DISCOVER]: discover,
  [Step.SUBMIT]: submit,
  [Step.APPLY]: apply,
  [Step.PUBLISH]: publish,
  [Step.FINALIZE]: finalize,
};

const nextStepOf = (step: Step): Step | null => STEP_ORDER[STEP_ORDER.indexOf(step) + 1] ?? null;

/** Runs in flight in this process, so a cancel can abort their outside calls. */
export const inFlight = new Map<string, AbortController>();

interface Claim {
  run: Run;
  state: StepRow;
  version: number;
}

/**
 * Claim: the step attempt becomes RUNNING (event) unless the job is stale, the step already finished,
 * or the run ended (a cancelled run's queued steps never start).
 */
async function claim(app: App, step: Step, job: Job<StepJob>): Promise<Claim | null> {
  return inTransaction(app.ds, async (tx) => {
    const run = await lockRun(tx, job.data.runId);
    if (!run) return null;
    const state = await getStep(tx, run.id, step, job.data.attempt);
    if (!state || isFinalStep(state.state) || FINAL_RUN_STATUSES.includes(run.status)) return null;
    // A job that was superseded (re-queued under another id) must not run the step twice.
    if (state.jobId && state.jobId !== job.id) return null;
    const lostWorker = state.state === StepState.RUNNING;
    if (run.status === RunStatus.QUEUED) await moveRun(tx, run, RunStatus.RUNNING, { currentStep: step });
    else await updateRun(tx, run.id, { currentStep: step });
    const version = await moveStep(
      tx,
      run.id,
      step,
      state.attempt,
      StepState.RUNNING,
      { pickedUp: true, workerId: app.workerId, nextAttemptAt: null },
      lostWorker
        ? { worker: app.workerId, recovered: true, reason: 'the worker running this step stopped (lost heartbeat or crash); running it again' }
        : { worker: app.workerId },
    );
    return { run, state: { ...state, tries: state.tries + 1 }, version };
  });
}

function backoffMs(tries: number): number {
  const base = Math.min(1000 * 2 ** Math.max(0, tries - 1), 5 * 60_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Records the outcome of the step's work: ONE transaction for outputs, artifacts, state, events and the next job. */
async function complete(
  app: App,
  step: Step,
  claimed: Claim,
  outcome: { result?: StepResult; error?: unknown },
): Promise<{ version: number; wakeAfterMs?: number }> {
  const { run: claimedRun, state } = claimed;
  let wakeAfterMs: number | undefined;
  const version = await inTransaction(app.ds, async (tx) => {
    const run = (await lockRun(tx, claimedRun.id))!;
    const { result, error } = outcome;
    if (result) {
      if (result.kind !== 'wait') await updateRun(tx, run.id, { ...result.outputs });
      await recordArtifacts(tx, run.id, step, state.attempt, result.artifacts ?? []);
    }
    if (error instanceof StepFailure) await recordArtifacts(tx, run.id, step, state.attempt, error.artifacts);

    // Cancelled while the work ran: keep what it produced (facts), but go no further.
    if (run.status === RunStatus.CANCELLED) {
      return moveStep(tx, run.id, step, state.attempt, StepState.CANCELLED, { message: 'run cancelled while this step ran' });
    }

    if (result?.kind === 'done') {
      let version = await moveStep(tx, run.id, step, state.attempt, StepState.SUCCEEDED, { message: result.message, payload: result.payload ?? null });
      const next = nextStepOf(step);
      if (next) {
        // The run is at the next step from now on, so no reader sees it "at" a step that already succeeded.
        await updateRun(tx, run.id, { currentStep: next });
        version = await enqueueStep(tx, app.boss, run.id, next, await nextAttempt(tx, run.id, next));
      }
      else version = await moveRun(tx, run, RunStatus.SUCCEEDED, { finishedAt: new Date(), currentStep: null, statusMessage: result.message });
      return version;
    }
    if (result?.kind === 'wait') {
      wakeAfterMs = result.delayMs;
      return enqueueStep(tx, app.boss, run.id, step, state.attempt, {
        state: StepState.WAITING,
        startAfter: new Date(Date.now() + result.delayMs),
        message: result.message,
        payload: result.payload,
      });
    }
    if (result?.kind === 'no-work') {
      await moveStep(tx, run.id, step, state.attempt, StepState.SUCCEEDED, { message: result.message, payload: result.payload ?? null });
      for (const later of STEP_ORDER.slice(STEP_ORDER.indexOf(step) + 1)) {
        await moveStep(tx, run.id, later, await nextAttempt(tx, run.id, later), StepState.SKIPPED, { message: 'no remaining phases' });
      }
      return moveRun(tx, run, RunStatus.NO_WORK, { finishedAt: new Date(), currentStep: null, statusMessage: result.message });
    }

    // A failure.
    const e = error instanceof ProviderError ? error : null;
    const message = e?.message ?? `Unexpected error in ${step.toLowerCase()}: ${(error as Error)?.message ?? String(error)}`;
    if (e?.kind === FailureKind.TRANSIENT && state.tries <= app.config.stepRetryLimit) {
      const delayMs = e.retryAfterMs ?? backoffMs(state.tries);
      wakeAfterMs = delayMs;
      return enqueueStep(tx, app.boss, run.id, step, state.attempt, {
        state: StepState.RETRYING,
        startAfter: new Date(Date.now() + delayMs),
        message,
        payload: { ...state.payload, code: e.code, retryInMs: delayMs, tries: state.tries, retriesLeft: app.config.stepRetryLimit - state.tries + 1 },
      });
    }
    const code = e?.code ?? FailureCode.INTERNAL;
    const guidance = remediationFor(code, e?.secretRef);
    const kind = e?.kind ?? FailureKind.PERMANENT;
    await moveStep(tx, run.id, step, state.attempt, StepState.FAILED, { message, error: { code, message, kind } }, { code, kind });
    return moveRun(
      tx,
      run,
      RunStatus.FAILED,
      {
        failureCode: code,
        failureStep: step,
        failureMessage: message,
        failureRemediation: guidance.remediation,
        failureResumable: guidance.resumable,
        finishedAt: new Date(),
        statusMessage: `${step} failed: ${code}`,
      },
      { code, step, resumable: guidance.resumable, ...(e?.secretRef ? { secretRef: e.secretRef } : {}) },
    );
  });
  return { version, wakeAfterMs };
}

/** This process's workers per queue, so a delayed job can be picked up on time here, not at the next poll. */
const workerIds = new Map<Step, string[]>();

/**
 * A job re-queued with startAfter is durable in the table; NOTIFY fired when it was sent, before it was
 * due, so without this it would wait for the polling backstop. A local timer wakes this process's
 * workers when it is due; other processes still find it by polling.
 */
function wakeLater(app: App, step: Step, delayMs: number): void {
  setTimeout(() => {
    for (const id of workerIds.get(step) ?? []) app.boss.notifyWorker(id);
  }, delayMs + 20).unref();
}

/** One step job, start to end: claim, the step's own work, complete. */
export async function runStepJob(app: App, step: Step, job: Job<StepJob>): Promise<void> {
  const claimed = await claim(app, step, job);
  if (!claimed) return;
  await announce(app.ds, claimed.run.id, claimed.version);
  const log = app.log.child({ runId: claimed.run.id, step, attempt: claimed.state.attempt, try: claimed.state.tries });
  log.info('step started');

  const controller = new AbortController();
  inFlight.set(claimed.run.id, controller);
  let outcome: { result?: StepResult; error?: unknown };
  try {
    const credentialSet = await app.ds.getRepository(CredentialSet).findOneByOrFail({ id: claimed.run.credentialSetId });
    const result = await STEPS[step]({
      app,
      run: claimed.run,
      step,
      attempt: claimed.state.attempt,
      state: claimed.state,
      credentialSet,
      providers: createProviders(app.config, credentialSet, log),
      artifacts: new ArtifactStore(app.config.artifactDir),
      signal: controller.signal,
      log,
    });
    outcome = { result };
  } catch (error) {
    outcome = { error };
  } finally {
    inFlight.delete(claimed.run.id);
  }
  const { version, wakeAfterMs } = await complete(app, step, claimed, outcome);
  await announce(app.ds, claimed.run.id, version);
  if (wakeAfterMs !== undefined) wakeLater(app, step, wakeAfterMs);
  if (outcome.error) {
    const e = outcome.error as ProviderError;
    log.warn({ code: e.code ?? FailureCode.INTERNAL, kind: e.kind ?? 'PERMANENT', error: e.message }, 'step failed');
  } else {
    log.info({ outcome: outcome.result!.kind, message: outcome.result!.message }, 'step finished');
  }
}

/** Registers the step workers of this process. */
export async function startWorkers(app: App): Promise<void> {
  for (const step of STEP_ORDER) {
    const id = await app.boss.work<StepJob>(
      QUEUE[step],
      // Several pollers per queue so one long step (a big apply, a slow push) does not hold the others back;
      // batches of two with burst drain a backlog without waiting out the polling interval.
      { batchSize: 2, burstWhenBatchFull: true, localConcurrency: app.config.workerConcurrency, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 10 },
      async (jobs) => {
        await Promise.all(jobs.map((job) => runStepJob(app, step, job)));
      },
    );
    workerIds.set(step, [...(workerIds.get(step) ?? []), id]);
  }
}

/** Everything a `work` process runs: the step workers, the lost-step worker, and the cancel listener. */
export async function startWorking(app: App): Promise<{ stop: () => Promise<void> }> {
  await startWorkers(app);
  await startLostWorker(app);
  const listener = new Listener(app.databaseUrl, app.log);
  listener.on(CANCEL_CHANNEL, (runId) => inFlight.get(runId)?.abort(new Error(`run ${runId} was cancelled`)));
  await listener.start();
  return { stop: () => listener.close() };
}
