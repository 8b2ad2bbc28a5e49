import { createHash, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';
import { Step, STEP_ORDER } from '../interfaces.js';
import { QUEUE } from '../jobs/queues.js';
import type { RunFeed } from '../runs/feed.js';
import { codexLooks, failuresByCode, queuedJobs, queueWaits, runsEnteredByStatus, stepDurations, type BucketRow } from '../runs/db/metrics.js';
import { bearerToken, hasRole, type TokenStore } from './auth.js';

// `/metrics` in the Prometheus text format. What comes from the database is read from it at each scrape
// (a metric object whose get() runs SQL), so every `serve` reports the same totals and two processes never
// add up to twice the runs; what belongs to one process (its subscribers, event loop, memory) stays its own.

/** Step durations run from milliseconds (discover) to the poll deadline (apply waits on Codex). */
export const STEP_DURATION_BOUNDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600] as const;
/** A step job is picked up within milliseconds by an idle worker; seconds to minutes mean too few workers. */
export const QUEUE_WAIT_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;

interface Series {
  value: number;
  labels?: Record<string, string | number>;
  metricName?: string;
}

type Kind = 'counter' | 'gauge' | 'histogram';

/**
 * A metric whose samples are read when it is scraped. prom-client's registry takes any object with a
 * name and an async get(); its Counter and Histogram classes only count in memory, which is per process.
 */
function register(registry: Registry, name: string, help: string, type: Kind, read: () => Promise<Series[]> | Series[]): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    get: async () => ({ name, help, type, aggregator: 'sum' as const, values: await read() }),
  };
  registry.registerMetric(metric as unknown as Metric);
}

/** A histogram's samples from SQL bucket counts: `_bucket` per bound and +Inf, `_sum`, `_count`. */
function histogramSeries(name: string, bounds: readonly number[], rows: BucketRow[]): Series[] {
  return rows.flatMap((row) => [
    ...bounds.map((le, i) => ({ metricName: `${name}_bucket`, labels: { ...row.labels, le }, value: row.buckets[i]! })),
    { metricName: `${name}_bucket`, labels: { ...row.labels, le: '+Inf' }, value: row.count },
    { metricName: `${name}_sum`, labels: row.labels, value: row.sum },
    { metricName: `${name}_count`, labels: row.labels, value: row.count },
  ]);
}

const STEP_OF_QUEUE = new Map(STEP_ORDER.map((s) => [QUEUE[s], s] as [string, Step]));

/** The registry `/metrics` serves for one `serve` process. */
export function createMetrics(db: pg.Pool, feed: RunFeed): Registry {
  const registry = new Registry();
  register(registry, 'spec_chain_runs_total', 'Runs that entered each status, from the event log of every process (a resumed run counts again).', 'counter', async () =>
    (await runsEnteredByStatus(db)).map((r) => ({ labels: { status: r.status }, value: r.n })),
  );
  register(registry, 'spec_chain_failures_total', 'Run failures by failure code, from the event log of every process.', 'counter', async () =>
    (await failuresByCode(db)).map((r) => ({ labels: { code: r.code }, value: r.n })),
  );
  register(registry, 'spec_chain_codex_polls_total', 'Looks at Codex tasks (one per try of an APPLY attempt), across every worker.', 'counter', async () => [
    { value: await codexLooks(db) },
  ]);
  register(registry, 'spec_chain_step_duration_seconds', 'Finished step attempts, first pick-up to final state, by step and final state (outcome).', 'histogram', async () =>
    histogramSeries('spec_chain_step_duration_seconds', STEP_DURATION_BOUNDS, await stepDurations(db, STEP_DURATION_BOUNDS)),
  );
  register(registry, 'spec_chain_queue_wait_seconds', 'Time step attempts waited in their queue before a worker first picked them up, by step.', 'histogram', async () =>
    histogramSeries('spec_chain_queue_wait_seconds', QUEUE_WAIT_BOUNDS, await queueWaits(db, QUEUE_WAIT_BOUNDS)),
  );
  register(registry, 'spec_chain_queue_depth', 'Step jobs waiting in each step queue (created or retry in pg-boss, including those due later).', 'gauge', async () => {
    const depth = await queuedJobs(db, [...STEP_OF_QUEUE.keys()]);
    return STEP_ORDER.map((step) => ({ labels: { step }, value: depth.get(QUEUE[step]) ?? 0 }));
  });
  register(registry, 'spec_chain_feed_subscribers', 'Live subscriptions (runUpdated and runsUpdated) held by this serve process.', 'gauge', () => [{ value: feed.subscriberCount }]);
  // Process defaults of this process: CPU, memory, handles, GC, and the event-loop delay (nodejs_eventloop_lag_*).
  collectDefaultMetrics({ register: registry });
  return registry;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Who may scrape: any API token (viewer or above), or METRICS_TOKEN, a token that opens `/metrics` and
 * nothing else, so a Prometheus server need not hold a token that can read runs.
 */
export function mayScrape(tokens: TokenStore, metricsToken: string | undefined, authorization: unknown): boolean {
  if (hasRole(tokens.authenticate(authorization), 'viewer')) return true;
  const token = bearerToken(authorization);
  return !!metricsToken && !!token && timingSafeEqual(digest(token), digest(metricsToken));
}
