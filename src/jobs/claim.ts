import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from '../db/transaction.js';
import { FINAL_RUN_STATUSES, RunStatus, type Step, StepState } from '../interfaces.js';
import { readAttempt } from '../runs/db/attempts.js';
import { lockRun, type Run } from '../runs/db/runs.js';
import { isFinalStep, moveRun, moveStep } from '../runs/transitions.js';
import type { StepJob } from './queues.js';
import type { AttemptInfo } from './step.js';

/** A try a worker holds: every write it makes after its outside work is checked against `token`. */
export interface Claim {
  runId: string;
  step: Step;
  attempt: number;
  token: string;
  worker: string;
}

export interface Claimed {
  claim: Claim;
  run: Run;
  info: AttemptInfo;
  version: number;
}

/**
 * Claim: the attempt's try becomes RUNNING under a fresh claim (event) unless the job is stale (the
 * attempt was queued again under another job), the attempt already ended, or the run ended (a cancelled
 * run's queued steps never start). A claim taken over from a lost worker says so in its event.
 */
export async function claimStep(db: pg.Pool, job: { id: string; data: StepJob }, worker: string): Promise<Claimed | null> {
  const { runId, step, attempt } = job.data;
  return inTransaction(db, async (tx) => {
    const run = await lockRun(tx, runId);
    if (!run || FINAL_RUN_STATUSES.includes(run.status)) return null;
    const row = await readAttempt(tx, run.id, step, attempt);
    if (!row || isFinalStep(row.state) || (row.jobId && row.jobId !== job.id)) return null;
    const takenOver = row.state === StepState.RUNNING;
    const token = randomUUID();
    if (run.status === RunStatus.QUEUED) await moveRun(tx, run, RunStatus.RUNNING, { currentStep: step });
    const version = await moveStep(
      tx,
      run.id,
      step,
      attempt,
      StepState.RUNNING,
      { claim: token, workerId: worker, nextAttemptAt: null },
      takenOver
        ? { worker, recovered: true, reason: 'the worker running this step stopped (lost heartbeat or crash); running it again' }
        : { worker },
      run.currentStep === step ? {} : { currentStep: step },
    );
    const claimed = (await readAttempt(tx, run.id, step, attempt))!;
    return {
      claim: { runId, step, attempt, token, worker },
      run: { ...run, currentStep: step },
      info: { number: attempt, tries: claimed.tries, startedAt: claimed.startedAt!, payload: claimed.payload, notes: claimed.notes },
      version,
    };
  });
}
