import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { inTransaction, type Tx } from '../db/transaction.js';
import type { TokenLimits } from '../providers/github/request.js';
import { FINAL_RUN_STATUSES, Step, StepState, WaitReason, type Wait } from '../interfaces.js';
import { readAttempt } from '../runs/db/attempts.js';
import { lockRun } from '../runs/db/runs.js';
import {
  blockCredential,
  blockedForMs,
  codexLine,
  codexSlotsInUse,
  dropCodexSlotRow,
  holdsCodexSlot,
  lockMutation,
  noteMutation,
  readLimit,
  takeCodexSlotRow,
} from '../runs/db/limits.js';
import type { Runtime } from './outcomes.js';
import { enqueueStep } from './queues.js';

// How many Codex tasks a credential set has in flight, across every process: a run takes a slot before
// SUBMIT creates its task and gives it back when APPLY sees the task finish or the run ends. Runs that
// find no slot wait at SUBMIT in order of arrival; a freed slot wakes the first of them at once.
//
// Every decision about one set's slots runs under one transaction-scoped advisory lock per set, taken
// before any run row, so a slot freed while a run is deciding to wait can never be missed.

const codexKey = (credentialSetId: string) => `codex:${credentialSetId}`;

async function lockCodexLine(tx: Tx, credentialSetId: string): Promise<{ name: string; max: number }> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [codexKey(credentialSetId)]);
  const { rows } = await tx.query<{ name: string; max: number }>(
    'SELECT name, max_concurrent_codex_tasks AS max FROM credential_set WHERE id = $1',
    [credentialSetId],
  );
  return rows[0]!;
}

/**
 * Why this run cannot have a slot now, or null when it may go (it holds a free slot from now on; `taken`
 * hears when it took it).
 */
async function decide(tx: Tx, run: { id: string; credentialSetId: string }, take: boolean, taken?: (at: Date | null) => void): Promise<Wait | null> {
  const set = await lockCodexLine(tx, run.credentialSetId);
  if (await holdsCodexSlot(tx, run.id)) return null;
  const limit = await readLimit(tx, codexKey(run.credentialSetId));
  const now = new Date();
  if (limit.blockedUntil && limit.blockedUntil > now) {
    return {
      reason: WaitReason.CODEX_RATE_LIMITED,
      key: run.credentialSetId,
      since: now,
      until: limit.blockedUntil,
      position: null,
      message: `Codex Cloud limits credential set "${set.name}" (${limit.reason ?? 'rate limit'}) until ${limit.blockedUntil.toISOString()}`,
    };
  }
  const inUse = await codexSlotsInUse(tx, run.credentialSetId);
  const { ahead } = await codexLine(tx, run.credentialSetId, run.id);
  // A slot is this run's when one is left after every earlier arrival has had one: order is kept, and
  // nobody waits while slots stand free.
  if (inUse + ahead < set.max) {
    if (take) taken?.(await takeCodexSlotRow(tx, run.id, run.credentialSetId));
    return null;
  }
  return {
    reason: WaitReason.CODEX_CAPACITY,
    key: run.credentialSetId,
    since: now,
    until: null,
    position: ahead,
    message: `waiting for a Codex slot of credential set "${set.name}": ${inUse} of ${set.max} in use, ${ahead} ahead`,
  };
}

/** SUBMIT's gate: takes a Codex slot for the run (and says when), or says why it must wait. */
export async function takeCodexSlot(rt: Runtime, run: { id: string; credentialSetId: string }): Promise<{ wait: Wait } | { takenAt: Date | null }> {
  let takenAt: Date | null = null;
  const wait = await inTransaction(rt.db, (tx) => decide(tx, run, true, (at) => (takenAt = at)));
  return wait ? { wait } : { takenAt };
}

/**
 * Inside the transaction that makes a run wait for a slot (the advisory lock is taken before its run
 * row): when a slot has freed meanwhile, the waiting attempt is due at once instead of after `backstopMs`.
 */
export async function capacityPause(tx: Tx, run: { id: string; credentialSetId: string }, backstopMs: number): Promise<number> {
  const wait = await decide(tx, run, false);
  if (!wait) return 0;
  return wait.until ? Math.max(0, wait.until.getTime() - Date.now()) : backstopMs;
}

/** Takes the advisory lock of a set's line before the run row, for `capacityPause` in the same transaction. */
export async function enterCodexLine(tx: Tx, credentialSetId: string): Promise<void> {
  await lockCodexLine(tx, credentialSetId);
}

/** APPLY saw the task finish: the slot goes back and the first in line is woken. */
export async function releaseCodexSlot(rt: Runtime, runId: string): Promise<void> {
  const setId = await dropCodexSlotRow(rt.db, runId);
  if (setId) await wakeCodexLine(rt, setId);
}

/**
 * Wakes as many runs at the head of a set's line as there are free slots, when they wait for one: each
 * SUBMIT attempt is queued again at once (the delayed job it had is superseded). Called after a slot was
 * given back or the limit raised.
 */
export async function wakeCodexLine(rt: Runtime, credentialSetId: string): Promise<void> {
  await inTransaction(rt.db, async (tx) => {
    const set = await lockCodexLine(tx, credentialSetId);
    const free = set.max - (await codexSlotsInUse(tx, credentialSetId));
    if (free <= 0) return;
    const { line } = await codexLine(tx, credentialSetId, null);
    for (const next of line.slice(0, free)) {
      // The run row before its attempt row, as every transition of a run takes them: a worker claiming
      // this very attempt holds the run and then writes the attempt, so the other order deadlocks.
      const run = await lockRun(tx, next.runId);
      if (!run || FINAL_RUN_STATUSES.includes(run.status)) continue;
      const row = await readAttempt(tx, next.runId, Step.SUBMIT, next.attempt);
      if (row?.state !== StepState.WAITING || row.waitReason !== WaitReason.CODEX_CAPACITY) continue;
      await enqueueStep(tx, rt.boss, next.runId, Step.SUBMIT, next.attempt, { message: `a Codex slot of "${set.name}" is free: trying again` });
    }
  });
}

/** A Codex 429 (or a spent usage window) pauses every new submit of the credential set until `until`. */
export async function pauseCodex(rt: Runtime, credentialSetId: string, until: Date, reason: string): Promise<void> {
  await blockCredential(rt.db, codexKey(credentialSetId), until, reason);
}

/**
 * A GitHub token's limits as every process using it shares them: blocks (secondary limits, a spent
 * primary limit) and the spacing between mutations, kept in one credential_limit row per token.
 * A mutation holds that row's lock while it is sent, so mutations of one token never overlap anywhere.
 */
export function sharedGitHubLimits(db: pg.Pool, baseUrl: string, credential: string): TokenLimits {
  const key = `github:${createHash('sha256').update(`${baseUrl}\n${credential}`).digest('hex')}`;
  // The mutation lock is a row of its own: a block written while a mutation holds the lock (its answer
  // said to wait) must not wait for that same mutation to finish.
  const mutations = `${key}:mutations`;
  return {
    blockedForMs: () => blockedForMs(db, key),
    block: (ms, reason) => blockCredential(db, key, new Date(Date.now() + ms), reason),
    mutation: async <T>(intervalMs: number, send: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
      let outcome: { value: T } | { error: unknown } | undefined;
      await inTransaction(db, async (tx) => {
        const wait = await lockMutation(tx, mutations, intervalMs);
        if (wait > 0) await sleep(wait, undefined, { signal });
        try {
          outcome = { value: await send() };
        } catch (error) {
          outcome = { error };
        }
        // Stamped whether it succeeded or not: GitHub counts the request either way.
        await noteMutation(tx, mutations);
      });
      if (outcome && 'error' in outcome) throw outcome.error;
      return (outcome as { value: T }).value;
    },
  };
}
