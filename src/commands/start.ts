import { loadConfig } from '../config.js';
import { closeApp, migrate, openApp, reloadTokens, type App } from '../app.js';
import { createLogger } from '../log.js';
import { startHttpServer, type HttpServer } from '../server/http.js';
import { resolveDatabase } from './database.js';
import { shutdown } from '../jobs/boss.js';
import { startWorking } from '../jobs/chain.js';
import { enterSandbox, sandboxWanted } from '../sandbox/mode.js';

/**
 * `start` = migrate + serve + work in one process (the newcomer's command);
 * `serve` and `work` are the parts, for scale-out on one Postgres.
 */
export default async function startCommand(_argv: string[], name: string): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const serve = name === 'start' || name === 'serve';
  const work = name === 'start' || name === 'work';
  const db = await resolveDatabase(config, log, name === 'start');
  const app: App = await openApp(config, log, db.url, { supervise: work });
  if (name === 'start') await migrate(app.ds, app.boss, log);
  // The sandbox lives in one process with its emulators: `start` only.
  const sandbox = name === 'start' && (await sandboxWanted(app)) ? (await enterSandbox(app)).sandbox : undefined;

  const working = work ? await startWorking(app) : undefined;
  let http: HttpServer | undefined;
  if (serve) {
    if (app.tokens.size === 0) {
      const token = app.tokens.generateAdminToken();
      // Printed once, to the terminal only: it is never logged or stored.
      process.stdout.write(`\nNo API_TOKENS configured: generated an admin token for this process:\n\n  ${token}\n\nPaste it into GraphiQL (Authorization: Bearer <token>).\n\n`);
    }
    http = await startHttpServer(app, { port: config.port, host: config.host });
    log.info({ url: http.url, graphiql: `${http.url}/`, graphql: `${http.url}/graphql` }, 'serving');
  }

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      shutdown.started = true;
      log.info({ signal }, 'shutting down');
      await http?.close().catch((err) => log.warn({ err }, 'http close'));
      await working?.stop();
      await closeApp(app);
      await sandbox?.stop().catch((err) => log.warn({ err }, 'sandbox stop'));
      await db.stop().catch((err) => log.warn({ err }, 'database stop'));
      resolve();
    };
    process.on('SIGHUP', () => {
      reloadTokens(app).catch((err) => log.error({ err: { message: (err as Error).message } }, 'token reload failed; the previous tokens stay'));
    });
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
  return 0;
}
