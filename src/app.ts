import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { DataSource } from 'typeorm';
import type { Config } from './config.js';
import { createDataSource } from './db/datasource.js';
import { poolOf } from './db/transaction.js';
import { createBoss } from './jobs/queues.js';
import { createStepQueues } from './jobs/runner.js';
import { importArtifactFiles } from './runs/artifacts.js';
import type { Logger } from './log.js';
import { configureTasksReader } from './speckit/index.js';

/** What every process holds: configuration, the database and the queue. `serve` adds its own (schema, tokens, feed). */
export interface App {
  config: Config;
  log: Logger;
  databaseUrl: string;
  /** TypeORM, for migrations and credential sets. */
  ds: DataSource;
  /** The pool under it, for the chain's plain SQL. */
  db: pg.Pool;
  boss: PgBoss;
  /** Names this process in step_attempt.worker_id and the logs. */
  workerId: string;
}

/** Applies TypeORM migrations, then lets pg-boss install or upgrade its own schema and the step queues. */
export async function migrate(app: Pick<App, 'ds' | 'boss' | 'log' | 'config'>): Promise<void> {
  const applied = await app.ds.runMigrations({ transaction: 'each' });
  for (const m of applied) app.log.info({ migration: m.name }, 'migration applied');
  await importArtifactFiles(poolOf(app.ds), app.config.artifactDir, app.log);
  await createStepQueues(app.boss, app.config);
}

export async function openApp(config: Config, log: Logger, databaseUrl: string, options: { supervise: boolean }): Promise<App> {
  configureTasksReader(config.tasksRead);
  const ds = createDataSource(databaseUrl);
  await ds.initialize();
  const boss = createBoss(databaseUrl, log, { supervise: options.supervise, monitorSeconds: config.queueMonitorSeconds });
  await boss.start();
  return { config, log, databaseUrl, ds, db: poolOf(ds), boss, workerId: `${process.pid}-${randomUUID().slice(0, 8)}` };
}

export async function closeApp(app: App): Promise<void> {
  await app.boss.stop({ graceful: true, timeout: 10_000 }).catch((err) => app.log.warn({ err }, 'queue stop'));
  await app.ds.destroy().catch((err) => app.log.warn({ err }, 'database close'));
}
