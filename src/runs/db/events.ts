import { RunEvent } from '../../entities/index.js';
import type { Step } from '../../interfaces.js';
import { columnsOf, type Db } from './columns.js';

// The run_event rows: the append-only log of a run's transitions.

export type { RunEvent };

const SELECT = columnsOf(RunEvent).select();

export interface Transition {
  step: Step | null;
  attempt: number | null;
  from: string | null;
  to: string;
  payload?: Record<string, unknown>;
}

/** Appends the event numbered `version` (taken from the run row in the same transaction). */
export async function insertEvent(tx: Db, runId: string, version: number, t: Transition): Promise<void> {
  await tx.query(
    `INSERT INTO run_event (run_id, version, step, attempt, from_state, to_state, at, payload)
     VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp(), $7)`,
    [runId, version, t.step, t.attempt, t.from, t.to, JSON.stringify(t.payload ?? {})],
  );
}

/** The events after `afterVersion`, oldest first. */
export async function eventsOfRun(db: Db, runId: string, afterVersion = 0, limit = 10_000): Promise<RunEvent[]> {
  const { rows } = await db.query<RunEvent>(
    `SELECT ${SELECT} FROM run_event WHERE run_id = $1 AND version > $2 ORDER BY version LIMIT $3`,
    [runId, afterVersion, limit],
  );
  return rows;
}
