import type { Job } from 'pg-boss';
import type { App } from '../app.js';
import { inTransaction } from '../db/transaction.js';
import { FailureCode, FailureKind, RunStatus, StepState } from '../interfaces.js';
import { announce } from '../runs/events.js';
import { remediationFor } from '../runs/remediation.js';
import type { StepJob } from '../runs/start.js';
import { getStep, isFinalStep, lockRun, moveRun, moveStep } from '../runs/transitions.js';
import { LOST_QUEUE, LOST_WORKER_RETRIES } from './boss.js';

/**
 * A step job that pg-boss gave up on (its workers kept dying or losing their heartbeat) fails its run
 * with WORKER_LOST, so a run is never left RUNNING with nobody working on it.
 */
export async function failLostStep(app: App, job: Job<StepJob>): Promise<void> {
  const { runId, step, attempt } = job.data;
  const version = await inTransaction(app.ds, async (tx) => {
    const run = await lockRun(tx, runId);
    const state = run && (await getStep(tx, runId, step, attempt));
    if (!run || !state || isFinalStep(state.state) || run.status !== RunStatus.RUNNING && run.status !== RunStatus.QUEUED) return null;
    const message = `The ${step} step lost its worker ${LOST_WORKER_RETRIES + 1} times (crash or missed heartbeats) and was given up.`;
    const guidance = remediationFor(FailureCode.WORKER_LOST);
    await moveStep(tx, runId, step, attempt, StepState.FAILED, {
      message,
      error: { code: FailureCode.WORKER_LOST, message, kind: FailureKind.TRANSIENT },
    });
    return moveRun(tx, run, RunStatus.FAILED, {
      failureCode: FailureCode.WORKER_LOST,
      failureStep: step,
      failureMessage: message,
      failureRemediation: guidance.remediation,
      failureResumable: guidance.resumable,
      finishedAt: new Date(),
      statusMessage: `${step} failed: ${FailureCode.WORKER_LOST}`,
    }, { code: FailureCode.WORKER_LOST, step });
  });
  if (version !== null) {
    await announce(app.ds, runId, version);
    app.log.warn({ runId, step, attempt }, 'step given up after lost workers');
  }
}

export async function startLostWorker(app: App): Promise<void> {
  await app.boss.work<StepJob>(LOST_QUEUE, { batchSize: 5 }, async (jobs) => {
    for (const job of jobs) await failLostStep(app, job);
  });
}
