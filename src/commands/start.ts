import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { closeApp, migrate, openApp, type App } from '../app.js';
import { freePort } from '../db/embedded.js';
import { createLogger, type Logger } from '../log.js';
import { localUrl, startHttpServer, type HttpServer } from '../server/http.js';
import { loadTokens, TokenStore } from '../server/auth.js';
import { ensureLocalToken, localTokenPath, readLocalToken } from '../server/local-token.js';
import { PROJECT_ROOT } from '../server/paths.js';
import { resolveDatabase } from './database.js';
import { shutdown } from '../jobs/queues.js';
import { startWorking } from '../jobs/runner.js';
import { enterSandbox, sandboxWanted } from '../sandbox/mode.js';
import { closeTasksReader } from '../speckit/index.js';

/** One Ctrl-C in a terminal under `npm start` arrives twice: from the terminal and forwarded by npm. */
const SAME_INTERRUPT_MS = 1000;
/** Where the sandbox's emulators are served on the main port, so their links survive a restart. */
const SANDBOX_PREFIX = '/sandbox';

/**
 * `start` = migrate + serve + work in one process (the newcomer's command);
 * `serve` and `work` are the parts, for scale-out on one Postgres.
 */
export default async function startCommand(_argv: string[], name: 'start' | 'serve' | 'work'): Promise<number> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const serve = name === 'start' || name === 'serve';
  const work = name === 'start' || name === 'work';
  if (name === 'start') await warnIfStale(log);
  // Tokens first (serve only): a bad API_TOKENS_FILE stops start-up before anything is opened.
  const tokens = new TokenStore([]);
  if (serve) await loadTokens(tokens, config);
  const db = await resolveDatabase(config, log, name === 'start');
  let app: App = await openApp(config, log, db.url, { supervise: work });
  if (name === 'start') await migrate(app);

  // The sandbox lives in one process with its emulators (`start` only), served on the main port.
  let port = config.port;
  const sandbox = name === 'start' && (await sandboxWanted(app))
    ? await (async () => {
        port ||= await freePort();
        const entered = await enterSandbox(app, `${localUrl(config.host, port)}${SANDBOX_PREFIX}`);
        app = { ...app, config: { ...app.config, ...entered.sandbox.endpoints } };
        return entered.sandbox;
      })()
    : undefined;

  const tokenFile = localTokenPath(config.dataDir);
  const usesLocalToken = serve && tokens.size === 0;
  if (usesLocalToken) {
    const { token, created } = await ensureLocalToken(tokenFile);
    tokens.setLocalAdminToken(token);
    // Printed to the terminal only, never logged.
    process.stdout.write(
      `\nNo API_TOKENS configured: ${created ? 'generated a' : 'using the'} local admin token, kept in ${tokenFile}` +
        ` (readable only by you; delete the file to revoke it):\n\n  ${token}\n\nPaste it into GraphiQL (Authorization: Bearer <token>).\n\n`,
    );
  }

  const working = work ? await startWorking(app) : undefined;
  let http: HttpServer | undefined;
  if (serve) {
    http = await startHttpServer(app, tokens, { port, host: config.host, mounts: sandbox ? { [SANDBOX_PREFIX]: sandbox.handle } : {} });
    log.info({ url: http.url, graphiql: `${http.url}/`, graphql: `${http.url}/graphql`, runs: `${http.url}/runs` }, 'serving');
  }

  process.on('SIGHUP', () => {
    if (!serve) return;
    void (async () => {
      await loadTokens(tokens, config);
      log.info({ tokens: tokens.size }, 'API tokens loaded');
      // A deleted token file revokes the local admin token at once.
      if (usesLocalToken) tokens.setLocalAdminToken(await readLocalToken(tokenFile));
    })().catch((err) => log.error({ err: { message: (err as Error).message } }, 'token reload failed; the previous tokens stay'));
  });

  await new Promise<void>((resolve) => {
    let stopping = false;
    let firstAt = 0;
    const graceful = async (signal: string) => {
      shutdown.started = true;
      log.info({ signal }, 'shutting down');
      await http?.close().catch((err) => log.warn({ err }, 'http close'));
      await working?.stop();
      // After the workers (a DISCOVER step may still be reading) and before the app: no reader thread outlives the process's work.
      await closeTasksReader().catch((err) => log.warn({ err }, 'tasks reader close'));
      await closeApp(app);
      await sandbox?.stop().catch((err) => log.warn({ err }, 'sandbox stop'));
      await db.stop().catch((err) => log.warn({ err }, 'database stop'));
      log.info('stopped');
      resolve();
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (!stopping) {
        stopping = true;
        firstAt = Date.now();
        void graceful(signal);
        return;
      }
      if (Date.now() - firstAt < SAME_INTERRUPT_MS) return;
      // A second, later interrupt while the orderly stop is slow: stop now, and say what that means.
      process.stderr.write('spec-chain: interrupted again: stopping at once (running steps are picked up again at the next start)\n');
      log.warn({ signal }, 'forced stop');
      void db.stopNow().finally(() => process.exit(130));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  return 0;
}

/** `npm start` runs the last build: say so when the sources are newer (`npm run build` rebuilds). */
async function warnIfStale(log: Logger): Promise<void> {
  const built = await stat(join(PROJECT_ROOT, 'dist', 'src', 'cli.js')).catch(() => null);
  const sources = await readdir(join(PROJECT_ROOT, 'src'), { recursive: true }).catch(() => null);
  if (!built || !sources) return;
  for (const file of sources) {
    const info = await stat(join(PROJECT_ROOT, 'src', file)).catch(() => null);
    if (info?.isFile() && info.mtimeMs > built.mtimeMs) {
      log.warn({ newer: `src/${file}` }, 'the build is older than the sources: run `npm run build` to use your changes');
      return;
    }
  }
}
