import { PgBoss } from 'pg-boss';
import { Step, STEP_ORDER } from '../interfaces.js';
import type { Logger } from '../log.js';

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

/**
 * How long a worker may hold a step before pg-boss hands it to another (seconds). Steps heartbeat, so
 * a dead worker is noticed after `HEARTBEAT_SECONDS`, not after the expiry.
 */
export const HEARTBEAT_SECONDS = 10;
const EXPIRE_SECONDS = 15 * 60;
/** Lost-worker retries pg-boss makes; transient provider failures are retried by the chain runner itself. */
export const LOST_WORKER_RETRIES = 3;

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

/** Creates the step queues (idempotent): queues must exist before anything is sent to them. */
export async function createQueues(boss: PgBoss): Promise<void> {
  const existing = new Set((await boss.getQueues()).map((q) => q.name));
  if (!existing.has(LOST_QUEUE)) await boss.createQueue(LOST_QUEUE, { notify: true, retryLimit: 5, retryDelay: 5, retryBackoff: true });
  for (const step of STEP_ORDER) {
    if (existing.has(QUEUE[step])) continue;
    await boss.createQueue(QUEUE[step], {
      notify: true,
      retryLimit: LOST_WORKER_RETRIES,
      retryDelay: 1,
      retryBackoff: true,
      expireInSeconds: EXPIRE_SECONDS,
      heartbeatSeconds: HEARTBEAT_SECONDS,
      deadLetter: LOST_QUEUE,
    });
  }
}
