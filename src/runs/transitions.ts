import type { Tx } from '../db/transaction.js';
import { FINAL_RUN_STATUSES, FINAL_STEP_STATES, type RunStatus, type Step, type StepState } from '../interfaces.js';
import { writeAttempt, type AttemptFields } from './db/attempts.js';
import { insertEvent } from './db/events.js';
import { dropCodexSlotRow } from './db/limits.js';
import { writeRun, type Run, type RunFields } from './db/runs.js';

// The state machine's two moves. Each writes its row once and appends the event in the same
// transaction, under the run lock its caller holds.

export type { Run, RunFields };

export const isFinalStep = (s: StepState) => FINAL_STEP_STATES.includes(s);

/** Changes the run's status (and fields) and logs the transition; `run.status` follows. Returns the event's version. */
export async function moveRun(
  tx: Tx,
  run: Pick<Run, 'id'> & { status: RunStatus | null },
  to: RunStatus,
  fields: RunFields = {},
  payload: Record<string, unknown> = {},
): Promise<number> {
  const version = await writeRun(tx, run.id, { status: to, fields });
  await insertEvent(tx, run.id, version, { step: null, attempt: null, from: run.status, to, payload });
  // A run that ended holds no Codex slot any more (the caller wakes the set's line after commit).
  if (FINAL_RUN_STATUSES.includes(to)) await dropCodexSlotRow(tx, run.id);
  run.status = to;
  return version;
}

/**
 * An event that changes no state (a stale worker's result dropped, a wait that changed its reason):
 * from and to are the attempt's state as it stays. Returns the event's version.
 */
export async function noteStep(tx: Tx, runId: string, step: Step, attempt: number, state: StepState, payload: Record<string, unknown>): Promise<number> {
  const version = await writeRun(tx, runId, {});
  await insertEvent(tx, runId, version, { step, attempt, from: state, to: state, payload });
  return version;
}

/**
 * Moves one step attempt to `to` (creating it when absent) and logs the transition; `run` holds run
 * fields that change with it (outputs, the current step), written in the same UPDATE that numbers the
 * event. Returns the event's version.
 */
export async function moveStep(
  tx: Tx,
  runId: string,
  step: Step,
  attempt: number,
  to: StepState,
  fields: AttemptFields = {},
  payload: Record<string, unknown> = {},
  run: RunFields = {},
): Promise<number> {
  const from = await writeAttempt(tx, runId, step, attempt, to, fields);
  const version = await writeRun(tx, runId, { fields: run });
  await insertEvent(tx, runId, version, { step, attempt, from, to, payload: { ...(fields.message ? { message: fields.message } : {}), ...payload } });
  return version;
}
