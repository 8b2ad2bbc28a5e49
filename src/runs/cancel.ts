import { inTransaction } from '../db/transaction.js';
import { FINAL_RUN_STATUSES, isUuid, MAX_LENGTH, RunStatus, Step, StepState, tooLong, UserErrorCode, type UserErrorData } from '../interfaces.js';
import { wakeCodexLine } from '../jobs/capacity.js';
import { CANCEL_CHANNEL, QUEUE } from '../jobs/queues.js';
import { latestAttempts } from './db/attempts.js';
import { lockRun, type Run } from './db/runs.js';
import { announce } from './events.js';
import { codexTaskLeft } from './remediation.js';
import { getRun } from './queries.js';
import type { RunServices } from './start.js';
import { isFinalStep, moveRun, moveStep } from './transitions.js';

/**
 * cancelRun: the run ends CANCELLED, queued or waiting steps are cancelled (their jobs too, and a job
 * that still gets fetched finds the run cancelled and does nothing), and the worker running a step is
 * told to abort its outside calls; it records what already exists outside and undoes what it made.
 */
export async function cancelRun(svc: Pick<RunServices, 'db' | 'boss'>, runId: string, reason: string | null): Promise<{ run: Run | null; userErrors: UserErrorData[] }> {
  const long = tooLong('reason', reason, MAX_LENGTH.reason);
  if (long) return { run: null, userErrors: [long] };
  const outcome = await inTransaction(svc.db, async (tx) => {
    const run = isUuid(runId) ? await lockRun(tx, runId) : null;
    if (!run) return { error: { code: UserErrorCode.NOT_FOUND, field: 'runId', message: `No run ${runId}.` } };
    if (FINAL_RUN_STATUSES.includes(run.status)) {
      return { error: { code: UserErrorCode.RUN_FINISHED, field: 'runId', message: `Run ${runId} already ended ${run.status}; nothing to cancel.` } };
    }
    const message = reason ? `cancelled: ${reason}` : 'cancelled by an operator';
    const jobs: { step: Step; jobId: string }[] = [];
    for (const s of await latestAttempts(tx, run.id)) {
      if (isFinalStep(s.state) || s.state === StepState.RUNNING) continue;
      if (s.jobId) jobs.push({ step: s.step, jobId: s.jobId });
      await moveStep(tx, run.id, s.step, s.attempt, StepState.CANCELLED, { message, nextAttemptAt: null });
    }
    // A task Codex is still working on cannot be stopped through its API: say so rather than pretend.
    const applied = (await latestAttempts(tx, run.id)).some((s) => s.step === Step.APPLY && s.state === StepState.SUCCEEDED);
    const left = run.codexTaskId && !applied ? { codexTask: codexTaskLeft(run.codexTaskId) } : {};
    const version = await moveRun(tx, run, RunStatus.CANCELLED, { finishedAt: new Date(), statusMessage: message }, { reason: reason ?? null, ...left });
    return { version, jobs, credentialSetId: run.credentialSetId };
  });
  if ('error' in outcome) return { run: null, userErrors: [outcome.error as UserErrorData] };
  await announce(svc.db, runId, outcome.version);
  await wakeCodexLine(svc, outcome.credentialSetId);
  await svc.db.query('SELECT pg_notify($1, $2)', [CANCEL_CHANNEL, runId]);
  for (const j of outcome.jobs) await svc.boss.cancel(QUEUE[j.step], j.jobId).catch(() => {});
  return { run: await getRun(svc.db, runId), userErrors: [] };
}
