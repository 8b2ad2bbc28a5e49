import type { Db } from './columns.js';

// Codex slots and credential limits: what every process using one credential set or token obeys together.

/** The run's Codex slot, if it holds one. */
export async function holdsCodexSlot(db: Db, runId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM codex_slot WHERE run_id = $1', [runId]);
  return rows.length === 1;
}

export async function codexSlotsInUse(db: Db, credentialSetId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM codex_slot WHERE credential_set_id = $1', [credentialSetId]);
  return rows[0]!.n;
}

export async function takeCodexSlotRow(db: Db, runId: string, credentialSetId: string): Promise<Date | null> {
  // The clock, not the transaction's start: taken under the line's lock, the times are in the order slots went.
  const { rows } = await db.query<{ taken_at: Date }>(
    'INSERT INTO codex_slot (run_id, credential_set_id, taken_at) VALUES ($1, $2, clock_timestamp()) ON CONFLICT (run_id) DO NOTHING RETURNING taken_at',
    [runId, credentialSetId],
  );
  return rows[0]?.taken_at ?? null;
}

/** Gives the run's slot back; returns the credential set it was for (null when the run held none). */
export async function dropCodexSlotRow(db: Db, runId: string): Promise<string | null> {
  const { rows } = await db.query<{ credential_set_id: string }>('DELETE FROM codex_slot WHERE run_id = $1 RETURNING credential_set_id', [runId]);
  return rows[0]?.credential_set_id ?? null;
}

/**
 * The line for a Codex slot of a credential set: SUBMIT attempts of its active runs that hold no slot,
 * in order of arrival at SUBMIT (when the attempt was first queued). Returns how many are ahead of
 * `runId`'s attempt, and the whole line.
 */
export async function codexLine(
  db: Db,
  credentialSetId: string,
  runId: string | null,
): Promise<{ ahead: number; line: { runId: string; attempt: number }[] }> {
  const { rows } = await db.query<{ run_id: string; attempt: number }>(
    `SELECT a.run_id, a.attempt FROM step_attempt a JOIN spec_workflow_run r ON r.id = a.run_id
      WHERE a.step = 'SUBMIT' AND a.state NOT IN ('SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED')
        AND r.credential_set_id = $1 AND r.status IN ('QUEUED', 'RUNNING')
        AND NOT EXISTS (SELECT 1 FROM codex_slot s WHERE s.run_id = a.run_id)
      ORDER BY a.queued_at, a.run_id`,
    [credentialSetId],
  );
  const at = runId === null ? rows.length : rows.findIndex((r) => r.run_id === runId);
  return { ahead: at < 0 ? rows.length : at, line: rows.map((r) => ({ runId: r.run_id, attempt: r.attempt })) };
}

export interface CredentialLimit {
  blockedUntil: Date | null;
  reason: string | null;
  lastMutationAt: Date | null;
}

/** How long the credential is still blocked, by the database's clock (0: not blocked). */
export async function blockedForMs(db: Db, key: string): Promise<number> {
  const { rows } = await db.query<{ ms: number }>(
    `SELECT GREATEST(0, EXTRACT(EPOCH FROM (blocked_until - clock_timestamp())) * 1000)::float8 AS ms FROM credential_limit WHERE key = $1`,
    [key],
  );
  return rows[0]?.ms ?? 0;
}

/**
 * Locks the credential's row until the transaction ends (one mutation of a token at a time, whichever
 * process sends it) and returns how long to wait before sending, so `intervalMs` passes after the last.
 */
export async function lockMutation(tx: Db, key: string, intervalMs: number): Promise<number> {
  await tx.query('INSERT INTO credential_limit (key) VALUES ($1) ON CONFLICT (key) DO NOTHING', [key]);
  const { rows } = await tx.query<{ ms: number }>(
    `SELECT GREATEST(0, EXTRACT(EPOCH FROM (last_mutation_at + $2 * interval '1 millisecond' - clock_timestamp())) * 1000)::float8 AS ms
       FROM credential_limit WHERE key = $1 FOR UPDATE`,
    [key, intervalMs],
  );
  return rows[0]?.ms ?? 0;
}

export async function readLimit(db: Db, key: string, lock = false): Promise<CredentialLimit> {
  if (lock) await db.query('INSERT INTO credential_limit (key) VALUES ($1) ON CONFLICT (key) DO NOTHING', [key]);
  const { rows } = await db.query<{ blocked_until: Date | null; reason: string | null; last_mutation_at: Date | null }>(
    `SELECT blocked_until, reason, last_mutation_at FROM credential_limit WHERE key = $1${lock ? ' FOR UPDATE' : ''}`,
    [key],
  );
  const row = rows[0];
  return { blockedUntil: row?.blocked_until ?? null, reason: row?.reason ?? null, lastMutationAt: row?.last_mutation_at ?? null };
}

/** Blocks the credential until `until` (a later block wins over an earlier one). */
export async function blockCredential(db: Db, key: string, until: Date, reason: string): Promise<void> {
  await db.query(
    `INSERT INTO credential_limit (key, blocked_until, reason) VALUES ($1, $2, $3)
     ON CONFLICT (key) DO UPDATE SET
       reason = CASE WHEN credential_limit.blocked_until IS NULL OR credential_limit.blocked_until < EXCLUDED.blocked_until THEN EXCLUDED.reason ELSE credential_limit.reason END,
       blocked_until = GREATEST(credential_limit.blocked_until, EXCLUDED.blocked_until),
       updated_at = now()`,
    [key, until, reason],
  );
}

export async function noteMutation(db: Db, key: string): Promise<void> {
  await db.query('UPDATE credential_limit SET last_mutation_at = clock_timestamp(), updated_at = now() WHERE key = $1', [key]);
}
