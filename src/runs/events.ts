import type { Db } from './db/columns.js';

/** The channel a committed transition is announced on: payload `{"runId":…,"version":…}`, never the data. */
export const RUN_CHANNEL = 'spec_chain_run';

/**
 * Wakes listeners after commit. Only a hint: readers always read the event table, so a lost
 * notification costs latency, never data. Sent outside the writing transaction on purpose: a NOTIFY
 * inside it holds a global lock until commit.
 */
export async function announce(db: Db, runId: string, version: number): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [RUN_CHANNEL, JSON.stringify({ runId, version })]).catch(() => {});
}
