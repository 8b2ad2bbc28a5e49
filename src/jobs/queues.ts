import { PgBoss } from 'pg-boss';
import { bossDb, type Tx } from '../db/transaction.js';
import { Step, STEP_ORDER, StepState, WaitReason } from '../interfaces.js';
import type { AttemptFields } from '../runs/db/attempts.js';
import type { Logger } from '../log.js';
import { moveStep, type RunFields } from '../runs/transitions.js';

// The queues of the chain and what goes on them. Owns the pg-boss instance's settings, the job
// payload, and enqueueing a step attempt (state and job in one transaction).

/** One pg-boss queue per step. */
export const QUEUE: Record<Step, string> = {
  [Step.DISCOVER]: 'spec-chain-discover',
  [Step.SUBMIT]: 'spec-chain-submit',
  [Step.APPLY]: 'spec-chain-apply',
  [Step.PUBLISH]: 'spec-chain-publish',
  [Step.FINALIZE]: 'spec-chain-finalize',
};

/** Step jobs whose worker was lost more often than pg-boss retries land here, to fail their run with a reason. */
export const LOST_QUEUE = 'spec-chain-lost';

/** Workers listen here; the payload is the run id. The running step's AbortSignal fires. */
export const CANCEL_CHANNEL = 'spec_chain_cancel';

/** What a step job carries: the run and the step's attempt. Everything else is read from the database. */
export interface StepJob {
  runId: string;
  step: Step;
  attempt: number;
  /** The run's credential set and repository: queues serve these flows in turn (see `enqueueStep`). */
  flow?: string;
}

/**
 * A worker that stops heartbeating loses its job after this many seconds (pg-boss's least). The runner
 * refreshes it at half that, so a healthy step of any length is never taken over.
 */
export const HEARTBEAT_SECONDS = 10;
/** Lost-worker retries pg-boss makes; transient provider failures are retried by the runtime itself. */
export const LOST_WORKER_RETRIES = 3;
/** pg-boss's expiry is a backstop above the runner's own per-step timeout (StepPolicy.timeoutSeconds). */
export const EXPIRY_MARGIN_SECONDS = 5 * 60;

/** Set when the process is shutting down: the embedded server's own exit hook may close connections first. */
export const shutdown = { started: false };

/** A short, secret-free description of a database error for the log (pg errors carry the whole client). */
export function describeError(error: unknown): { message: string; code?: string } {
  const e = error as { message?: string; code?: string };
  return { message: String(e?.message ?? error), ...(e?.code ? { code: e.code } : {}) };
}

export function createBoss(
  url: string,
  log: Logger,
  options: { supervise: boolean; monitorSeconds: number; applicationName?: string },
): PgBoss {
  const boss = new PgBoss({
    connectionString: url,
    application_name: options.applicationName ?? 'spec-chain-queue',
    // Workers wake on NOTIFY within milliseconds of the previous step's commit; polling is only the backstop.
    useListenNotify: true,
    supervise: options.supervise,
    // Lost heartbeats and expired jobs are found on the supervisor's pass: keep it short.
    superviseIntervalSeconds: options.monitorSeconds,
    monitorIntervalSeconds: options.monitorSeconds,
    schedule: false,
    migrate: true,
    max: 10,
  });
  boss.on('error', (error) => {
    const err = describeError(error);
    // 57P01: "terminating connection due to administrator command", expected while PostgreSQL stops with us.
    if (shutdown.started && err.code === '57P01') log.debug({ err }, 'queue connection closed by shutdown');
    else log.error({ err }, 'queue error');
  });
  boss.on('warning', (warning) => log.warn({ warning }, 'queue warning'));
  return boss;
}

/**
 * Creates the step queues, or brings existing ones to these settings (idempotent): queues must exist
 * before anything is sent to them. `expireSeconds` is each step's timeout plus the margin.
 */
export async function createQueues(boss: PgBoss, expireSeconds: Record<Step, number>): Promise<void> {
  const existing = new Set((await boss.getQueues()).map((q) => q.name));
  if (!existing.has(LOST_QUEUE)) await boss.createQueue(LOST_QUEUE, { notify: true, retryLimit: 5, retryDelay: 5, retryBackoff: true });
  for (const step of STEP_ORDER) {
    const settings = {
      notify: true,
      retryLimit: LOST_WORKER_RETRIES,
      // A job whose worker was lost is picked up again at once: its heartbeat already waited.
      retryDelay: 0,
      expireInSeconds: expireSeconds[step],
      heartbeatSeconds: HEARTBEAT_SECONDS,
    };
    if (existing.has(QUEUE[step])) await boss.updateQueue(QUEUE[step], settings);
    else await boss.createQueue(QUEUE[step], { ...settings, deadLetter: LOST_QUEUE });
  }
}

/**
 * Queues a step attempt: its state (QUEUED, or WAITING/RETRYING with a time), why it waits, its event,
 * and its job, in the caller's transaction.
 *
 * Fairness: a job's pg-boss priority is minus the number of jobs of the same flow (credential set and
 * repository) already queued in that step's queue, so a queue serves flows in turn (pg-boss fetches by
 * priority, then age): the 51st run of one set does not hold back the first run of another.
 */
export async function enqueueStep(
  tx: Tx,
  boss: PgBoss,
  runId: string,
  step: Step,
  attempt: number,
  options: {
    startAfter?: Date;
    state?: StepState;
    message?: string;
    payload?: Record<string, unknown>;
    event?: Record<string, unknown>;
    /** Why it waits; by default a QUEUED attempt waits for a worker and a RETRYING one out its backoff. */
    wait?: AttemptFields['wait'];
    /** Run fields that change with this transition (written in the same UPDATE). */
    run?: RunFields;
    /** The operator's notes the attempt takes to Codex. */
    notes?: string | null;
  } = {},
): Promise<number> {
  const state = options.state ?? StepState.QUEUED;
  const { rows } = await tx.query<{ flow: string }>(`SELECT credential_set_id || '/' || repository AS flow FROM spec_workflow_run WHERE id = $1`, [runId]);
  const flow = rows[0]!.flow;
  const { rows: queued } = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry') AND data->>'flow' = $2`,
    [QUEUE[step], flow],
  );
  const job: StepJob = { runId, step, attempt, flow };
  const jobId = await boss.send(QUEUE[step], job, {
    db: bossDb(tx),
    priority: -queued[0]!.n,
    ...(options.startAfter ? { startAfter: options.startAfter } : {}),
  });
  const wait = options.wait !== undefined ? options.wait : defaultWait(state, options.startAfter, options.message);
  return moveStep(
    tx,
    runId,
    step,
    attempt,
    state,
    { jobId, nextAttemptAt: options.startAfter ?? null, message: options.message, payload: options.payload, claim: null, wait, ...(options.notes ? { notes: options.notes } : {}) },
    { jobId, ...(wait ? { waitingFor: wait.reason } : {}), ...(options.notes ? { notes: options.notes } : {}), ...options.event },
    options.run,
  );
}

function defaultWait(state: StepState, until: Date | undefined, message: string | undefined): AttemptFields['wait'] {
  if (state === StepState.RETRYING) return { reason: WaitReason.RETRY_BACKOFF, until: until ?? null, message: `trying again after a transient failure${message ? `: ${message}` : ''}` };
  if (state === StepState.QUEUED) return { reason: WaitReason.WORKER_BUSY, until: null, message: 'queued for a worker' };
  return null;
}
