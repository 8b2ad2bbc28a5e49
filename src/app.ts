import { randomUUID } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import type { PgBoss } from 'pg-boss';
import type { DataSource } from 'typeorm';
import { readFile } from 'node:fs/promises';
import { ConfigError, parseApiTokens, type Config } from './config.js';
import { createDataSource } from './db/datasource.js';
import { createBoss, createQueues } from './jobs/boss.js';
import type { Logger } from './log.js';
import { buildAppSchema } from './schema/build.js';
import { TokenStore } from './server/auth.js';
import type { RunFeed } from './runs/feed.js';

/** The services one process holds; everything else is built from these. */
export interface App {
  config: Config;
  log: Logger;
  databaseUrl: string;
  ds: DataSource;
  boss: PgBoss;
  tokens: TokenStore;
  schema: GraphQLSchema;
  /** Pushes committed transitions to subscribers (serve processes). */
  feed?: RunFeed;
  /** Names this process in step_state.worker_id and the logs. */
  workerId: string;
}

/** Applies TypeORM migrations, then lets pg-boss install or upgrade its own schema and queues. */
export async function migrate(ds: DataSource, boss: PgBoss, log: Logger): Promise<void> {
  const applied = await ds.runMigrations({ transaction: 'each' });
  for (const m of applied) log.info({ migration: m.name }, 'migration applied');
  await createQueues(boss);
}

/**
 * The tokens of API_TOKENS plus those of API_TOKENS_FILE, read now. Called at start-up and on SIGHUP:
 * a token removed from the file is revoked, and its open subscriptions are closed.
 */
export async function reloadTokens(app: Pick<App, 'config' | 'tokens' | 'log'>): Promise<void> {
  const { apiTokensFile } = app.config;
  let fromFile: Config['apiTokens'] = [];
  if (apiTokensFile) {
    let raw: string;
    try {
      raw = await readFile(apiTokensFile, 'utf8');
    } catch (e) {
      throw new ConfigError('API_TOKENS_FILE', `cannot read ${apiTokensFile} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
    fromFile = parseApiTokens(raw, 'API_TOKENS_FILE');
  }
  app.tokens.replace([...app.config.apiTokens, ...fromFile]);
  app.log.info({ tokens: app.tokens.size }, 'API tokens loaded');
}

export async function openApp(config: Config, log: Logger, databaseUrl: string, options: { supervise: boolean }): Promise<App> {
  // Tokens first: a bad API_TOKENS_FILE stops start-up before anything is opened.
  const tokens = new TokenStore([]);
  await reloadTokens({ config, tokens, log });
  const ds = createDataSource(databaseUrl);
  await ds.initialize();
  const boss = createBoss(databaseUrl, log, { supervise: options.supervise, monitorSeconds: config.queueMonitorSeconds });
  await boss.start();
  return { config, log, databaseUrl, ds, boss, tokens, schema: await buildAppSchema(), workerId: `${process.pid}-${randomUUID().slice(0, 8)}` };
}

export async function closeApp(app: App): Promise<void> {
  await app.boss.stop({ graceful: true, timeout: 10_000 }).catch((err) => app.log.warn({ err }, 'queue stop'));
  await app.ds.destroy().catch((err) => app.log.warn({ err }, 'database close'));
}
