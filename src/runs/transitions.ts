import type { Tx } from '../db/transaction.js';
import type { SpecWorkflowRun } from '../entities/index.js';
import { RunStatus, Step, StepState } from '../interfaces.js';
import { appendEvent } from './events.js';

/** Run columns as the entity names them, for the chain's plain-SQL reads. */
const RUN_COLUMNS = `id, repository, feature_id AS "featureId", base_branch AS "baseBranch", tasks_path AS "tasksPath",
  phase, status, current_step AS "currentStep", idempotency_key AS "idempotencyKey",
  credential_set_id AS "credentialSetId", codex_environment AS "codexEnvironment", model,
  codex_attempts AS "codexAttempts", sandbox, base_sha AS "baseSha", codex_task_id AS "codexTaskId",
  codex_task_url AS "codexTaskUrl", branch, commit_sha AS "commitSha", pull_request_number AS "pullRequestNumber",
  pull_request_url AS "pullRequestUrl", failure_code AS "failureCode", failure_step AS "failureStep",
  failure_message AS "failureMessage", failure_remediation AS "failureRemediation",
  failure_resumable AS "failureResumable", status_message AS "statusMessage", version, retry_of AS "retryOf",
  created_at AS "createdAt", updated_at AS "updatedAt", finished_at AS "finishedAt"`;

export type Run = SpecWorkflowRun;

/** Locks the run row for the transaction. Every writer locks the run first, so writers never deadlock. */
export async function lockRun(tx: Tx, runId: string): Promise<Run | null> {
  const { rows } = await tx.query(`SELECT ${RUN_COLUMNS} FROM spec_workflow_run WHERE id = $1 FOR UPDATE`, [runId]);
  return (rows[0] as Run | undefined) ?? null;
}

/** The columns of a run a step may write (its outputs) or the runner sets (status, failure). */
export type RunFields = Partial<
  Pick<
    Run,
    | 'featureId' | 'tasksPath' | 'phase' | 'currentStep' | 'baseSha' | 'codexTaskId' | 'codexTaskUrl' | 'branch'
    | 'commitSha' | 'pullRequestNumber' | 'pullRequestUrl' | 'failureCode' | 'failureStep' | 'failureMessage'
    | 'failureRemediation' | 'failureResumable' | 'statusMessage' | 'finishedAt' | 'codexEnvironment'
  >
>;

const RUN_FIELD_COLUMNS: Record<keyof RunFields, string> = {
  featureId: 'feature_id', tasksPath: 'tasks_path', phase: 'phase', currentStep: 'current_step', baseSha: 'base_sha',
  codexTaskId: 'codex_task_id', codexTaskUrl: 'codex_task_url', branch: 'branch', commitSha: 'commit_sha',
  pullRequestNumber: 'pull_request_number', pullRequestUrl: 'pull_request_url', failureCode: 'failure_code',
  failureStep: 'failure_step', failureMessage: 'failure_message', failureRemediation: 'failure_remediation',
  failureResumable: 'failure_resumable', statusMessage: 'status_message', finishedAt: 'finished_at',
  codexEnvironment: 'codex_environment',
};

export async function updateRun(tx: Tx, runId: string, fields: RunFields): Promise<void> {
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined) as [keyof RunFields, unknown][];
  if (!entries.length) return;
  const sets = entries.map(([k], i) => `${RUN_FIELD_COLUMNS[k]} = $${i + 2}`);
  const values = entries.map(([k, v]) => (k === 'phase' && v !== null ? JSON.stringify(v) : v));
  await tx.query(`UPDATE spec_workflow_run SET ${sets.join(', ')} WHERE id = $1`, [runId, ...values]);
}

/** Changes the run's status (and fields) and logs the transition. */
export async function moveRun(
  tx: Tx,
  run: Pick<Run, 'id'> & { status: RunStatus | null },
  to: RunStatus,
  fields: RunFields = {},
  payload: Record<string, unknown> = {},
): Promise<number> {
  await tx.query('UPDATE spec_workflow_run SET status = $2 WHERE id = $1', [run.id, to]);
  await updateRun(tx, run.id, fields);
  const version = await appendEvent(tx, run.id, { step: null, attempt: null, from: run.status, to, payload });
  run.status = to;
  return version;
}

export interface StepRow {
  id: string;
  step: Step;
  attempt: number;
  state: StepState;
  tries: number;
  jobId: string | null;
  payload: Record<string, unknown> | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export async function getStep(tx: Tx, runId: string, step: Step, attempt: number): Promise<StepRow | null> {
  const { rows } = await tx.query(
    `SELECT id, step, attempt, state, tries, job_id AS "jobId", payload, started_at AS "startedAt", finished_at AS "finishedAt"
     FROM step_state WHERE run_id = $1 AND step = $2 AND attempt = $3`,
    [runId, step, attempt],
  );
  return (rows[0] as StepRow | undefined) ?? null;
}

/** The latest attempt of each step of a run. */
export async function latestSteps(tx: Tx, runId: string): Promise<StepRow[]> {
  const { rows } = await tx.query(
    `SELECT DISTINCT ON (step) id, step, attempt, state, tries, job_id AS "jobId", payload,
            started_at AS "startedAt", finished_at AS "finishedAt"
     FROM step_state WHERE run_id = $1 ORDER BY step, attempt DESC`,
    [runId],
  );
  return rows as StepRow[];
}

export interface StepFields {
  message?: string | null;
  payload?: Record<string, unknown> | null;
  error?: { code: string; message: string; kind: string } | null;
  jobId?: string | null;
  workerId?: string | null;
  nextAttemptAt?: Date | null;
  /** A worker picked the step up: count it and stamp started_at the first time. */
  pickedUp?: boolean;
}

const FINAL_STEP_STATES = [StepState.SUCCEEDED, StepState.FAILED, StepState.SKIPPED, StepState.CANCELLED];
export const isFinalStep = (s: StepState) => FINAL_STEP_STATES.includes(s);

/**
 * Creates (when absent) or moves one step attempt to `to`, stamping the times that state implies,
 * and logs the transition. Returns the event's version.
 */
export async function moveStep(
  tx: Tx,
  runId: string,
  step: Step,
  attempt: number,
  to: StepState,
  fields: StepFields = {},
  payload: Record<string, unknown> = {},
): Promise<number> {
  const existing = await getStep(tx, runId, step, attempt);
  const from = existing?.state ?? null;
  if (!existing) {
    await tx.query('INSERT INTO step_state (run_id, step, attempt, state) VALUES ($1, $2, $3, $4)', [runId, step, attempt, to]);
  }
  await tx.query(
    `UPDATE step_state SET
       state = $4::step_state_name,
       queued_at = CASE WHEN $4::step_state_name = 'QUEUED' AND queued_at IS NULL THEN clock_timestamp() ELSE queued_at END,
       started_at = CASE WHEN $5::boolean AND started_at IS NULL THEN clock_timestamp() ELSE started_at END,
       tries = tries + CASE WHEN $5 THEN 1 ELSE 0 END,
       heartbeat_at = CASE WHEN $5 THEN clock_timestamp() ELSE heartbeat_at END,
       finished_at = CASE WHEN $4::step_state_name IN ('SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED') THEN clock_timestamp() ELSE NULL END,
       message = CASE WHEN $6::boolean THEN $7::text ELSE message END,
       payload = CASE WHEN $8::boolean THEN $9::jsonb ELSE payload END,
       error = CASE WHEN $10::boolean THEN $11::jsonb ELSE error END,
       job_id = COALESCE($12::text, job_id),
       worker_id = COALESCE($13::text, worker_id),
       next_attempt_at = $14::timestamptz
     WHERE run_id = $1 AND step = $2 AND attempt = $3`,
    [
      runId, step, attempt, to, fields.pickedUp ?? false,
      fields.message !== undefined, fields.message ?? null,
      fields.payload !== undefined, fields.payload === undefined ? null : JSON.stringify(fields.payload),
      fields.error !== undefined, fields.error === undefined ? null : JSON.stringify(fields.error),
      fields.jobId ?? null, fields.workerId ?? null, fields.nextAttemptAt ?? null,
    ],
  );
  return appendEvent(tx, runId, { step, attempt, from, to, payload: { ...(fields.message ? { message: fields.message } : {}), ...payload } });
}

/** The attempt number the next queueing of `step` uses: a PENDING placeholder is reused, else a new attempt. */
export async function nextAttempt(tx: Tx, runId: string, step: Step): Promise<number> {
  const { rows } = await tx.query<{ attempt: number; state: StepState }>(
    'SELECT attempt, state FROM step_state WHERE run_id = $1 AND step = $2 ORDER BY attempt DESC LIMIT 1',
    [runId, step],
  );
  const latest = rows[0];
  if (!latest) return 1;
  return latest.state === StepState.PENDING ? latest.attempt : latest.attempt + 1;
}
