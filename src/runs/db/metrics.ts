import type { Db } from './columns.js';

// What /metrics reads from the database at scrape time. Every figure is computed from the shared tables,
// so any number of `serve` processes report the same totals and none of them double-counts another's runs.

/** Runs that entered each status (from the append-only event log, so the count only grows; a resumed run counts again). */
export async function runsEnteredByStatus(db: Db): Promise<{ status: string; n: number }[]> {
  const { rows } = await db.query<{ status: string; n: number }>(
    `SELECT to_state AS status, count(*)::int AS n FROM run_event WHERE step IS NULL GROUP BY to_state ORDER BY to_state`,
  );
  return rows;
}

/** Run failures by code: each FAILED transition of a run, with the code its event carries. */
export async function failuresByCode(db: Db): Promise<{ code: string; n: number }[]> {
  const { rows } = await db.query<{ code: string; n: number }>(
    `SELECT coalesce(payload->>'code', 'INTERNAL') AS code, count(*)::int AS n
       FROM run_event WHERE step IS NULL AND to_state = 'FAILED' GROUP BY 1 ORDER BY 1`,
  );
  return rows;
}

/** Looks at Codex tasks: every try of an APPLY attempt starts with one (`tries` counts each pick-up). */
export async function codexLooks(db: Db): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT coalesce(sum(tries), 0)::int AS n FROM step_attempt WHERE step = 'APPLY'`);
  return rows[0]!.n;
}

/** One series of a histogram read from SQL: how many observations fall at or under each bound, their count and sum. */
export interface BucketRow {
  labels: Record<string, string>;
  /** Cumulative counts, one per bound of the bounds asked for, in their order. */
  buckets: number[];
  count: number;
  sum: number;
}

/**
 * Bucket counts of `seconds` (a SQL expression over step_attempt rows `a`) grouped by `groups`, with
 * `count(*) FILTER (WHERE seconds <= le)` for each bound: one statement, one pass over the rows.
 */
async function histogram(db: Db, groups: Record<string, string>, seconds: string, where: string, bounds: readonly number[]): Promise<BucketRow[]> {
  const names = Object.keys(groups);
  const { rows } = await db.query<Record<string, string> & { buckets: number[]; count: number; sum: number }>(
    `WITH d AS (SELECT ${names.map((n) => `${groups[n]}::text AS ${n}`).join(', ')}, extract(epoch FROM ${seconds})::float8 AS s
                  FROM step_attempt a WHERE ${where})
     SELECT ${names.join(', ')},
            array[${bounds.map((_, i) => `count(*) FILTER (WHERE s <= $${i + 1})::int`).join(', ')}] AS buckets,
            count(*)::int AS count, coalesce(sum(s), 0)::float8 AS sum
       FROM d GROUP BY ${names.join(', ')} ORDER BY ${names.join(', ')}`,
    [...bounds],
  );
  return rows.map((r) => ({ labels: Object.fromEntries(names.map((n) => [n, r[n]!])), buckets: r.buckets, count: r.count, sum: r.sum }));
}

/** How long finished step attempts took, first pick-up to final state, by step and that final state. */
export function stepDurations(db: Db, bounds: readonly number[]): Promise<BucketRow[]> {
  return histogram(db, { step: 'a.step', outcome: 'a.state' }, 'a.finished_at - a.started_at', 'a.started_at IS NOT NULL AND a.finished_at IS NOT NULL', bounds);
}

/** How long step attempts waited in their queue before a worker first picked them up, by step. */
export function queueWaits(db: Db, bounds: readonly number[]): Promise<BucketRow[]> {
  return histogram(db, { step: 'a.step' }, 'a.started_at - a.queued_at', 'a.started_at IS NOT NULL AND a.queued_at IS NOT NULL', bounds);
}

/** Jobs waiting in each pg-boss queue (created or retry: not yet picked up, including those due later). */
export async function queuedJobs(db: Db, queues: readonly string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ name: string; n: number }>(
    `SELECT name, count(*)::int AS n FROM pgboss.job WHERE name = ANY($1::text[]) AND state IN ('created', 'retry') GROUP BY name`,
    [queues],
  );
  return new Map(rows.map((r) => [r.name, r.n]));
}
