import type { DataSource } from 'typeorm';
import type { PgBoss } from 'pg-boss';
import type { UserErrorData } from '../credential-sets/store.js';
import { inTransaction } from '../db/transaction.js';
import type { SpecWorkflowRun } from '../entities/index.js';
import { FINAL_RUN_STATUSES, RunStatus, StepState } from '../interfaces.js';
import { QUEUE } from '../jobs/boss.js';
import { announce } from './events.js';
import { getRun } from './queries.js';
import { isFinalStep, latestSteps, lockRun, moveRun, moveStep } from './transitions.js';

/** Workers listen here; the payload is the run id. The running step's AbortSignal fires. */
export const CANCEL_CHANNEL = 'spec_chain_cancel';

/**
 * cancelRun: the run ends CANCELLED, queued or waiting steps are cancelled (their jobs too, and a job
 * that still gets fetched finds the run cancelled and does nothing), and the worker running a step is
 * told to abort its outside calls.
 */
export async function cancelRun(
  ds: DataSource,
  boss: PgBoss,
  runId: string,
  reason: string | null,
): Promise<{ run: SpecWorkflowRun | null; userErrors: UserErrorData[] }> {
  const outcome = await inTransaction(ds, async (tx) => {
    const run = /^[0-9a-f-]{36}$/i.test(runId) ? await lockRun(tx, runId) : null;
    if (!run) return { error: { code: 'NOT_FOUND', field: 'runId', message: `No run ${runId}.` } };
    if (FINAL_RUN_STATUSES.includes(run.status)) {
      return { error: { code: 'RUN_FINISHED', field: 'runId', message: `Run ${runId} already ended ${run.status}; nothing to cancel.` } };
    }
    const message = reason ? `cancelled: ${reason}` : 'cancelled by an operator';
    const jobs: { step: keyof typeof QUEUE; jobId: string }[] = [];
    for (const s of await latestSteps(tx, run.id)) {
      if (isFinalStep(s.state) || s.state === StepState.RUNNING) continue;
      if (s.jobId && s.state !== StepState.PENDING) jobs.push({ step: s.step, jobId: s.jobId });
      await moveStep(tx, run.id, s.step, s.attempt, StepState.CANCELLED, { message, nextAttemptAt: null });
    }
    const version = await moveRun(tx, run, RunStatus.CANCELLED, { finishedAt: new Date(), statusMessage: message }, { reason: reason ?? null });
    return { version, jobs };
  });
  if ('error' in outcome) return { run: null, userErrors: [outcome.error as UserErrorData] };
  await announce(ds, runId, outcome.version);
  await ds.query('SELECT pg_notify($1, $2)', [CANCEL_CHANNEL, runId]);
  for (const j of outcome.jobs) await boss.cancel(QUEUE[j.step], j.jobId).catch(() => {});
  return { run: await getRun(ds, runId), userErrors: [] };
}
