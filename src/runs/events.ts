import type { DataSource } from 'typeorm';
import { poolOf, type Tx } from '../db/transaction.js';
import type { Step } from '../interfaces.js';

/** The channel a committed transition is announced on: payload `{"runId":…,"version":…}`, never the data. */
export const RUN_CHANNEL = 'spec_chain_run';

export interface Transition {
  step: Step | null;
  attempt: number | null;
  from: string | null;
  to: string;
  payload?: Record<string, unknown>;
}

/**
 * Appends one event to a run's log and returns its version. The version comes from the run row,
 * which the UPDATE locks until commit, so a run's versions are 1, 2, 3 … with no gap and no reuse.
 */
export async function appendEvent(tx: Tx, runId: string, t: Transition): Promise<number> {
  const { rows } = await tx.query<{ version: number }>(
    'UPDATE spec_workflow_run SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING version',
    [runId],
  );
  const version = rows[0]!.version;
  await tx.query(
    `INSERT INTO run_event (run_id, version, step, attempt, from_state, to_state, at, payload)
     VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp(), $7)`,
    [runId, version, t.step, t.attempt, t.from, t.to, JSON.stringify(t.payload ?? {})],
  );
  return version;
}

/**
 * Wakes listeners after commit. Only a hint: readers always read the event table, so a lost
 * notification costs latency, never data. Sent outside the writing transaction on purpose: a NOTIFY
 * inside it holds a global lock until commit.
 */
export async function announce(ds: DataSource, runId: string, version: number): Promise<void> {
  await poolOf(ds)
    .query('SELECT pg_notify($1, $2)', [RUN_CHANNEL, JSON.stringify({ runId, version })])
    .catch(() => {});
}
