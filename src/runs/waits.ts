import { Step, WaitReason, type Wait } from '../interfaces.js';
import { QUEUE } from '../jobs/queues.js';
import type { StepAttempt } from './db/attempts.js';
import type { Db } from './db/columns.js';
import { codexLine } from './db/limits.js';

/**
 * Why an attempt waits, as clients read it: what the attempt stored when it began to wait, with its
 * place in line read now (positions change while it waits).
 */
export async function waitOf(db: Db, a: StepAttempt): Promise<Wait | null> {
  if (!a.waitReason || !a.waitSince) return null;
  return {
    reason: a.waitReason,
    key: a.waitKey,
    since: a.waitSince,
    until: a.waitUntil,
    position: await positionOf(db, a),
    message: a.waitMessage ?? a.waitReason,
  };
}

async function positionOf(db: Db, a: StepAttempt): Promise<number | null> {
  if (a.waitReason === WaitReason.CODEX_CAPACITY && a.waitKey) return (await codexLine(db, a.waitKey, a.runId)).ahead;
  if (a.waitReason === WaitReason.WORKER_BUSY && a.jobId) {
    // The jobs of the step's queue a worker takes first: higher priority, or as high and older, and due now.
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pgboss.job j, (SELECT priority, created_on FROM pgboss.job WHERE id = $2 AND name = $1) me
        WHERE j.name = $1 AND j.state IN ('created', 'retry') AND j.start_after <= now() AND j.id <> $2
          AND (j.priority > me.priority OR (j.priority = me.priority AND j.created_on < me.created_on))`,
      [QUEUE[a.step as Step], a.jobId],
    );
    return rows[0]?.n ?? null;
  }
  return null;
}
