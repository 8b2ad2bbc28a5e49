import { StepAttempt } from '../../entities/index.js';
import type { FailureCode, Step, StepState, WaitReason } from '../../interfaces.js';
import { columnsOf, type Db } from './columns.js';

// The step_attempt row: one attempt of one step of a run, and every read and write of it.

export type { StepAttempt };

const ATTEMPT = columnsOf(StepAttempt);
const SELECT = ATTEMPT.select();

export async function readAttempt(db: Db, runId: string, step: Step, attempt: number): Promise<StepAttempt | null> {
  const { rows } = await db.query<StepAttempt>(`SELECT ${SELECT} FROM step_attempt WHERE run_id = $1 AND step = $2 AND attempt = $3`, [runId, step, attempt]);
  return rows[0] ?? null;
}

/** The latest attempt of each step of a run. */
export async function latestAttempts(db: Db, runId: string): Promise<StepAttempt[]> {
  const { rows } = await db.query<StepAttempt>(`SELECT DISTINCT ON (step) ${SELECT} FROM step_attempt WHERE run_id = $1 ORDER BY step, attempt DESC`, [runId]);
  return rows;
}

/** Every attempt of the given runs, in chain order then attempt order. */
export async function attemptsOfRuns(db: Db, runIds: readonly string[]): Promise<StepAttempt[]> {
  if (!runIds.length) return [];
  const { rows } = await db.query<StepAttempt>(`SELECT ${SELECT} FROM step_attempt WHERE run_id = ANY($1::uuid[]) ORDER BY step, attempt`, [runIds]);
  return rows;
}

/** The number the next attempt of `step` gets. */
export async function nextAttemptNumber(db: Db, runId: string, step: Step): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT coalesce(max(attempt), 0) + 1 AS n FROM step_attempt WHERE run_id = $1 AND step = $2', [runId, step]);
  return rows[0]!.n;
}

/** What a transition of an attempt writes besides its state. Absent fields are left as they are. */
export interface AttemptFields {
  message?: string | null;
  payload?: Record<string, unknown> | null;
  error?: { code: FailureCode; message: string; kind: string } | null;
  jobId?: string | null;
  workerId?: string | null;
  nextAttemptAt?: Date | null;
  /** A worker picked the attempt up under this claim: count the try, stamp started_at the first time. */
  claim?: string | null;
  /**
   * Why the attempt waits in the state it moves to (absent or null: it does not wait). The wait keeps its
   * `since` while its reason and line stay the same, so a line is kept in order of arrival.
   */
  wait?: { reason: WaitReason; key?: string | null; until?: Date | null; message: string } | null;
  /** The operator's notes the attempt takes to Codex (kept once set). */
  notes?: string;
}

/**
 * Moves one attempt to `to` (creating it when absent), stamping the times that state implies, in one
 * statement. Returns the state it was in (null when new).
 */
export async function writeAttempt(db: Db, runId: string, step: Step, attempt: number, to: StepState, fields: AttemptFields): Promise<StepState | null> {
  const claimed = fields.claim !== undefined && fields.claim !== null;
  const { rows } = await db.query<{ from: StepState | null }>(
    `WITH before AS (
       SELECT state FROM step_attempt WHERE run_id = $1 AND step = $2 AND attempt = $3
     ), written AS (
       INSERT INTO step_attempt (run_id, step, attempt, state, queued_at, started_at, tries, heartbeat_at, finished_at,
                                 message, payload, error, job_id, worker_id, next_attempt_at, claim,
                                 wait_reason, wait_key, wait_until, wait_message, wait_since, notes)
       VALUES ($1, $2, $3, $4::step_state,
               CASE WHEN $4::step_state = 'QUEUED' THEN clock_timestamp() END,
               CASE WHEN $5::boolean THEN clock_timestamp() END,
               CASE WHEN $5::boolean THEN 1 ELSE 0 END,
               CASE WHEN $5::boolean THEN clock_timestamp() END,
               CASE WHEN $4::step_state IN ('SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED') THEN clock_timestamp() END,
               $7::text, $9::jsonb, $11::jsonb, $12::text, $13::text, $14::timestamptz, $16::uuid,
               $17::wait_reason, $18::text, $19::timestamptz, $20::text, CASE WHEN $17::wait_reason IS NULL THEN NULL ELSE clock_timestamp() END,
               $21::text)
       ON CONFLICT (run_id, step, attempt) DO UPDATE SET
         state = EXCLUDED.state,
         queued_at = CASE WHEN EXCLUDED.state = 'QUEUED' AND step_attempt.queued_at IS NULL THEN clock_timestamp() ELSE step_attempt.queued_at END,
         started_at = CASE WHEN $5::boolean AND step_attempt.started_at IS NULL THEN clock_timestamp() ELSE step_attempt.started_at END,
         tries = step_attempt.tries + CASE WHEN $5::boolean THEN 1 ELSE 0 END,
         heartbeat_at = CASE WHEN $5::boolean THEN clock_timestamp() ELSE step_attempt.heartbeat_at END,
         finished_at = EXCLUDED.finished_at,
         message = CASE WHEN $6::boolean THEN EXCLUDED.message ELSE step_attempt.message END,
         payload = CASE WHEN $8::boolean THEN EXCLUDED.payload ELSE step_attempt.payload END,
         error = CASE WHEN $10::boolean THEN EXCLUDED.error ELSE step_attempt.error END,
         job_id = COALESCE(EXCLUDED.job_id, step_attempt.job_id),
         worker_id = COALESCE(EXCLUDED.worker_id, step_attempt.worker_id),
         next_attempt_at = EXCLUDED.next_attempt_at,
         claim = CASE WHEN $15::boolean THEN EXCLUDED.claim ELSE step_attempt.claim END,
         wait_since = CASE
           WHEN EXCLUDED.wait_reason IS NULL THEN NULL
           WHEN step_attempt.wait_reason = EXCLUDED.wait_reason AND step_attempt.wait_key IS NOT DISTINCT FROM EXCLUDED.wait_key THEN step_attempt.wait_since
           ELSE clock_timestamp() END,
         wait_reason = EXCLUDED.wait_reason,
         wait_key = EXCLUDED.wait_key,
         wait_until = EXCLUDED.wait_until,
         wait_message = EXCLUDED.wait_message,
         notes = COALESCE(EXCLUDED.notes, step_attempt.notes)
       RETURNING 1
     )
     SELECT (SELECT state FROM before) AS "from", (SELECT count(*) FROM written) AS written`,
    [
      runId, step, attempt, to, claimed,
      fields.message !== undefined, fields.message ?? null,
      fields.payload !== undefined, fields.payload === undefined ? null : JSON.stringify(fields.payload),
      fields.error !== undefined, fields.error === undefined ? null : JSON.stringify(fields.error),
      fields.jobId ?? null, fields.workerId ?? null, fields.nextAttemptAt ?? null,
      fields.claim !== undefined, fields.claim ?? null,
      fields.wait?.reason ?? null, fields.wait?.key ?? null, fields.wait?.until ?? null, fields.wait?.message ?? null,
      fields.notes ?? null,
    ],
  );
  return rows[0]!.from;
}

/** A worker's sign of life for the try it holds; false when the claim is no longer its own. */
export async function touchAttempt(db: Db, runId: string, step: Step, attempt: number, claim: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE step_attempt SET heartbeat_at = clock_timestamp() WHERE run_id = $1 AND step = $2 AND attempt = $3 AND claim = $4 AND state = 'RUNNING'`,
    [runId, step, attempt, claim],
  );
  return rowCount === 1;
}

/** Whether `claim` is still the claim of the attempt's running try. */
export async function holdsClaim(db: Db, runId: string, step: Step, attempt: number, claim: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM step_attempt WHERE run_id = $1 AND step = $2 AND attempt = $3 AND claim = $4 AND state = 'RUNNING'`, [runId, step, attempt, claim]);
  return rows.length === 1;
}

