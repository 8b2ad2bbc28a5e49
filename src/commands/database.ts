import { join } from 'node:path';
import type { Config } from '../config.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import type { Logger } from '../log.js';

/** DATABASE_URL when set; else, where allowed, an embedded PostgreSQL in DATA_DIR/postgres. */
export async function resolveDatabase(
  config: Config,
  log: Logger,
  allowEmbedded: boolean,
): Promise<{ url: string; stop: () => Promise<void>; stopNow: () => Promise<void> }> {
  if (config.databaseUrl) return { url: config.databaseUrl, stop: async () => {}, stopNow: async () => {} };
  if (!allowEmbedded) {
    const e = new Error('DATABASE_URL is not set; only `spec-chain start` starts an embedded PostgreSQL.');
    e.name = 'ConfigError';
    throw e;
  }
  const db = await startEmbeddedPostgres({ dir: join(config.dataDir, 'postgres'), log });
  return { url: db.url, stop: db.stop, stopNow: db.stopNow };
}
