import { loadConfig } from '../config.js';
import { closeApp, migrate, openApp } from '../app.js';
import { createLogger } from '../log.js';
import { resolveDatabase } from './database.js';

export default async function migrateCommand(): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const db = await resolveDatabase(config, log, false);
  const app = await openApp(config, log, db.url, { supervise: false });
  try {
    await migrate(app);
    log.info('database is up to date');
  } finally {
    await closeApp(app);
    await db.stop();
  }
  return 0;
}
