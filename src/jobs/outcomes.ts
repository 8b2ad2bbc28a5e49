import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import { inTransaction, type Tx } from '../db/transaction.js';
import { FailureCode, FailureKind, FINAL_RUN_STATUSES, RunStatus, Step, STEP_ORDER, StepState, WaitReason } from '../interfaces.js';
import { readAttempt, nextAttemptNumber } from '../runs/db/attempts.js';
import { recordArtifacts, type ArtifactInput } from '../runs/db/artifacts.js';
import { lockRun, type Run, type RunFields } from '../runs/db/runs.js';
import { remediationFor } from '../runs/remediation.js';
import { isFinalStep, moveRun, moveStep, noteStep } from '../runs/transitions.js';
import { Service } from '../interfaces.js';
import type { Claim } from './claim.js';
import { enqueueStep } from './queues.js';

// One verb per outcome of a try, each ONE transaction: outputs, artifacts, state, event and the next
// job commit together or not at all. Every verb is fenced: it writes only while the claim it was given
// is still the attempt's running claim, so a worker that was paused, taken over or timed out cannot
// change a run another worker has moved on. The lost-worker path uses the same verbs.

export interface Runtime {
  db: pg.Pool;
  boss: PgBoss;
}

/** What settling a try did: the event to announce, and whether the result landed or was dropped as stale. */
export interface Settled {
  version: number | null;
  landed: boolean;
  /** The run ended (or was found cancelled) with this status. */
  ended?: RunStatus;
}

/** Facts a try produced that are kept whatever happens next (a cancel keeps what exists outside). */
interface Facts {
  outputs?: RunFields;
  artifacts?: readonly ArtifactInput[];
  /** Said in the event when the run turns out cancelled (what the try left behind or undid). */
  message?: string;
  payload?: Record<string, unknown>;
}

/** A failure as the run records it. */
export interface Failure {
  code: FailureCode;
  kind: FailureKind;
  message: string;
  secretRef?: string | null;
  service?: Service | null;
}

const DROPPED = 'a worker that no longer held this attempt finished late; its result was dropped';

/**
 * Runs `write` under the run lock if `claim` still holds the attempt. A cancelled run keeps the facts and
 * ends the attempt CANCELLED; a stale claim writes only an event saying its result was dropped.
 */
async function fenced(
  rt: Runtime,
  claim: Claim,
  facts: Facts,
  write: (tx: Tx, run: Run) => Promise<Settled>,
  /** Locks that must be taken before the run row (a Codex line), so lock order is the same everywhere. */
  before?: (tx: Tx) => Promise<void>,
): Promise<Settled> {
  return inTransaction(rt.db, async (tx) => {
    await before?.(tx);
    const run = (await lockRun(tx, claim.runId))!;
    const row = await readAttempt(tx, run.id, claim.step, claim.attempt);
    if (!row || row.state !== StepState.RUNNING || row.claim !== claim.token) {
      const version = await noteStep(tx, run.id, claim.step, claim.attempt, row?.state ?? StepState.CANCELLED, {
        stale: true,
        worker: claim.worker,
        message: DROPPED,
      });
      return { version, landed: false };
    }
    if (run.status === RunStatus.CANCELLED) {
      await keep(tx, run, claim, facts);
      const version = await moveStep(
        tx,
        run.id,
        claim.step,
        claim.attempt,
        StepState.CANCELLED,
        { message: facts.message ?? 'run cancelled while this step ran', claim: null },
        facts.payload ?? {},
        facts.outputs,
      );
      return { version, landed: true, ended: RunStatus.CANCELLED };
    }
    if (FINAL_RUN_STATUSES.includes(run.status)) {
      const version = await noteStep(tx, run.id, claim.step, claim.attempt, row.state, { stale: true, worker: claim.worker, message: `the run already ended ${run.status}; ${DROPPED}` });
      return { version, landed: false };
    }
    return write(tx, run);
  });
}

/** Records a try's artifacts; its outputs ride on the transition's own UPDATE of the run. */
async function keep(tx: Tx, run: Run, claim: Pick<Claim, 'step' | 'attempt'>, facts: Facts): Promise<void> {
  if (facts.artifacts?.length) await recordArtifacts(tx, run.id, claim.step, claim.attempt, facts.artifacts);
}

const nextStepOf = (step: Step): Step | null => STEP_ORDER[STEP_ORDER.indexOf(step) + 1] ?? null;

/** The try finished the step: its outputs, SUCCEEDED, and the next step queued (or the run SUCCEEDED). */
export function completeStep(
  rt: Runtime,
  claim: Claim,
  result: { message: string; outputs?: RunFields; artifacts?: readonly ArtifactInput[]; payload?: Record<string, unknown>; next?: { notes?: string | null } },
): Promise<Settled> {
  return fenced(rt, claim, result, async (tx, run) => {
    await keep(tx, run, claim, result);
    const next = nextStepOf(claim.step);
    // The run is at the next step from the same moment, so no reader sees it "at" a step that already succeeded.
    let version = await moveStep(
      tx,
      run.id,
      claim.step,
      claim.attempt,
      StepState.SUCCEEDED,
      { message: result.message, payload: result.payload ?? null, claim: null },
      {},
      { ...result.outputs, ...(next ? { currentStep: next } : {}) },
    );
    if (!next) {
      version = await moveRun(tx, run, RunStatus.SUCCEEDED, { finishedAt: new Date(), currentStep: null, statusMessage: result.message });
      return { version, landed: true, ended: RunStatus.SUCCEEDED };
    }
    version = await enqueueStep(tx, rt.boss, run.id, next, await nextAttemptNumber(tx, run.id, next), { notes: result.next?.notes ?? null });
    return { version, landed: true };
  });
}

/**
 * Not done yet: the attempt WAITS, saying why, and its job comes back after the pause, durably in the
 * queue. `pause` is worked out inside the transaction (a wait for a Codex slot checks, under the line's
 * lock, whether one freed meanwhile); `before` takes the locks that go before the run row.
 */
export function waitStep(
  rt: Runtime,
  claim: Claim,
  result: { message: string; artifacts?: readonly ArtifactInput[]; payload?: Record<string, unknown> },
  wait: { reason: WaitReason; key?: string | null; message?: string },
  pause: number | ((tx: Tx, run: Run) => Promise<number>),
  before?: (tx: Tx) => Promise<void>,
): Promise<Settled & { delayMs?: number }> {
  let delayMs = 0;
  return fenced(
    rt,
    claim,
    result,
    async (tx, run) => {
      await keep(tx, run, claim, result);
      delayMs = typeof pause === 'number' ? pause : await pause(tx, run);
      const startAfter = new Date(Date.now() + delayMs);
      const version = await enqueueStep(tx, rt.boss, run.id, claim.step, claim.attempt, {
        state: StepState.WAITING,
        startAfter,
        message: result.message,
        payload: result.payload,
        wait: { reason: wait.reason, key: wait.key ?? null, until: startAfter, message: wait.message ?? result.message },
      });
      return { version, landed: true };
    },
    before,
  ).then((settled) => ({ ...settled, delayMs }));
}

/** A transient failure with tries left: RETRYING, and the same attempt tried again after `delayMs`. */
export function retryStep(
  rt: Runtime,
  claim: Claim,
  failure: Failure & { triesLeft: number; failures: number; counter: 'failures' | 'limited' },
  delayMs: number,
  facts: Facts = {},
): Promise<Settled> {
  return fenced(rt, claim, facts, async (tx, run) => {
    await keep(tx, run, claim, facts);
    const row = (await readAttempt(tx, run.id, claim.step, claim.attempt))!;
    const startAfter = new Date(Date.now() + delayMs);
    // A rate limit is a wait with a known end, said as such; anything else is a backoff after a failure.
    const limited = failure.code === FailureCode.RATE_LIMITED && failure.service;
    const version = await enqueueStep(tx, rt.boss, run.id, claim.step, claim.attempt, {
      state: StepState.RETRYING,
      startAfter,
      message: failure.message,
      payload: { ...row.payload, code: failure.code, retryInMs: delayMs, tries: row.tries, [failure.counter]: failure.failures, retriesLeft: failure.triesLeft },
      run: facts.outputs,
      ...(limited
        ? { wait: { reason: failure.service === Service.CODEX ? WaitReason.CODEX_RATE_LIMITED : WaitReason.GITHUB_RATE_LIMITED, until: startAfter, message: failure.message } }
        : {}),
    });
    return { version, landed: true };
  });
}

/**
 * This worker is stopping before the try finished: the same attempt goes back to the queue at once, for
 * another worker, with an event that says it was handed over (not lost). Its tries and failures are
 * kept as they were: a hand-over is not a failure.
 */
export function handOverStep(rt: Runtime, claim: Claim, facts: Facts = {}): Promise<Settled> {
  return fenced(rt, claim, facts, async (tx, run) => {
    await keep(tx, run, claim, facts);
    const row = (await readAttempt(tx, run.id, claim.step, claim.attempt))!;
    const version = await enqueueStep(tx, rt.boss, run.id, claim.step, claim.attempt, {
      message: `handed over: worker ${claim.worker} stopped before this step finished; the next free worker takes it`,
      payload: row.payload ?? undefined,
      event: { handedOver: true, from: claim.worker },
    });
    return { version, landed: true };
  });
}

/** The attempt FAILED and so did the run, with the code, the cause and what the operator can do. */
async function fail(tx: Tx, run: Run, step: Step, attempt: number, failure: Failure, outputs: RunFields = {}): Promise<Settled> {
  const guidance = remediationFor(failure.code, failure.secretRef, failure.service);
  await moveStep(
    tx,
    run.id,
    step,
    attempt,
    StepState.FAILED,
    { message: failure.message, error: { code: failure.code, message: failure.message, kind: failure.kind }, claim: null },
    { code: failure.code, kind: failure.kind },
    outputs,
  );
  const version = await moveRun(
    tx,
    run,
    RunStatus.FAILED,
    {
      failureCode: failure.code,
      failureStep: step,
      failureMessage: failure.message,
      failureRemediation: guidance.remediation,
      failureResumable: guidance.resumable,
      finishedAt: new Date(),
      statusMessage: `${step} failed: ${failure.code}`,
    },
    { code: failure.code, step, resumable: guidance.resumable, ...(failure.secretRef ? { secretRef: failure.secretRef } : {}) },
  );
  return { version, landed: true, ended: RunStatus.FAILED };
}

/** A failure with no tries left (or one no retry can mend): the run FAILS. */
export function failStep(rt: Runtime, claim: Claim, failure: Failure, facts: Facts = {}): Promise<Settled> {
  return fenced(rt, claim, facts, async (tx, run) => {
    await keep(tx, run, claim, facts);
    return fail(tx, run, claim.step, claim.attempt, failure, facts.outputs);
  });
}

/**
 * The lost-worker path: pg-boss gave up on the attempt's job (its workers kept dying or missing
 * heartbeats). Fenced by the attempt itself: only an attempt that is still unfinished on a live run fails.
 */
export function failLostStep(rt: Runtime, target: { runId: string; step: Step; attempt: number }, failure: Failure): Promise<Settled> {
  return inTransaction(rt.db, async (tx) => {
    const run = await lockRun(tx, target.runId);
    const row = run && (await readAttempt(tx, run.id, target.step, target.attempt));
    if (!run || !row || isFinalStep(row.state) || FINAL_RUN_STATUSES.includes(run.status)) return { version: null, landed: false };
    return fail(tx, run, target.step, target.attempt, failure);
  });
}

/**
 * Discovery ends the run early: NO_WORK (no open phase) or IN_REVIEW (the next phase has an open pull
 * request). The step SUCCEEDED, every later step is SKIPPED.
 */
export function endEarly(
  rt: Runtime,
  claim: Claim,
  result: { message: string; outputs?: RunFields; artifacts?: readonly ArtifactInput[]; payload?: Record<string, unknown> },
  status: RunStatus.NO_WORK | RunStatus.IN_REVIEW,
): Promise<Settled> {
  return fenced(rt, claim, result, async (tx, run) => {
    await keep(tx, run, claim, result);
    await moveStep(tx, run.id, claim.step, claim.attempt, StepState.SUCCEEDED, { message: result.message, payload: result.payload ?? null, claim: null }, {}, result.outputs);
    const why = status === RunStatus.NO_WORK ? 'no remaining phases' : 'the phase is in review';
    for (const later of STEP_ORDER.slice(STEP_ORDER.indexOf(claim.step) + 1)) {
      await moveStep(tx, run.id, later, await nextAttemptNumber(tx, run.id, later), StepState.SKIPPED, { message: why });
    }
    const version = await moveRun(tx, run, status, { finishedAt: new Date(), currentStep: null, statusMessage: result.message });
    return { version, landed: true, ended: status };
  });
}

/** What undoing a cancelled try did, as an event on that attempt (which stays CANCELLED). */
export function recordUndo(rt: Runtime, claim: Claim, report: { message: string; undone: Record<string, string> }): Promise<number> {
  return inTransaction(rt.db, async (tx) => {
    await lockRun(tx, claim.runId);
    return noteStep(tx, claim.runId, claim.step, claim.attempt, StepState.CANCELLED, { message: report.message, undone: report.undone });
  });
}
