import { setTimeout as sleep } from 'node:timers/promises';
import { FailureCode } from '../../interfaces.js';
import { permanent, transient } from '../errors.js';
import { launcher } from './launcher.js';

/** What one git invocation produced. `output` is stdout and stderr in the order git wrote them. */
export interface GitOutput {
  code: number;
  stdout: string;
  stderr: string;
  output: string;
  /** stdout as git wrote it (object contents, binary trees). */
  bytes: Buffer;
}

export interface GitRunOptions {
  cwd: string;
  /** The git executable (a path or a name on PATH). */
  bin?: string;
  /** Extra environment entries (authentication, identities, dates). */
  env?: Record<string, string>;
  input?: string | Uint8Array;
  signal?: AbortSignal;
  /** Values to cut out of everything git prints before it reaches the caller. */
  secrets?: readonly string[];
}

/**
 * Variables passed through from the worker's environment: the ones curl and git need to reach a
 * remote (proxies, CA bundles). Everything else is dropped, so a stray GIT_TRACE, GIT_ASKPASS or
 * credential helper of the host can neither print nor ask for a token.
 */
const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'TMPDIR',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'https_proxy',
  'http_proxy',
  'no_proxy',
  'all_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
];

/**
 * Settings that make git behave the same on every worker: no hooks, no signing, no line-ending
 * rewriting (it would change blob ids and so commit ids), no background maintenance in the shared cache.
 */
const FIXED_CONFIG = [
  'core.hooksPath=/dev/null',
  'commit.gpgSign=false',
  'core.autocrlf=false',
  'core.fsmonitor=false',
  'gc.auto=0',
  'maintenance.auto=false',
  'advice.detachedHead=false',
];

function environment(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED_THROUGH) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  // English messages: failures are classified from git's text.
  env.LC_ALL = 'C';
  env.LANGUAGE = 'C';
  env.GIT_CONFIG_NOSYSTEM = '1';
  env.GIT_CONFIG_GLOBAL = '/dev/null';
  env.GIT_TERMINAL_PROMPT = '0';
  env.GCM_INTERACTIVE = 'never';
  return { ...env, ...extra };
}

/** Replaces every secret, and any credentials written into a URL, with a marker. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out.replace(/(\/\/)[^/@\s:]+:[^/@\s]+@/g, '$1[redacted]@');
}

/** Git processes this process has had started for it (through the launcher, plus object readers). */
const tally = { started: 0 };

/** How many git processes have been started for this process so far: the tests and the benchmark read it. */
export function gitProcessesStarted(): number {
  return tally.started;
}

/** Counts a git process started outside runGit (a long-lived object reader). */
export function countGitProcess(): void {
  tally.started++;
}

/** CPU of the git launcher and of the git processes it has waited for, in ms. */
export function launcherCpu(): Promise<{ launcherMs: number; gitMs: number }> {
  return launcher.stats().then((s) => ({ launcherMs: s.ownMs, gitMs: s.childrenMs }));
}

/** The environment every git the service runs gets: see PASSED_THROUGH and environment(). */
export function gitEnvironment(extra?: Record<string, string>): Record<string, string> {
  return environment(extra) as Record<string, string>;
}

/** `-c` arguments that go before every git command. */
export const FIXED_CONFIG_ARGS: readonly string[] = FIXED_CONFIG.flatMap((setting) => ['-c', setting]);

/**
 * Runs git once, without a shell, from the launcher process (see launcher.ts). Never rejects on a
 * non-zero exit: the caller reads `code`. Rejects when aborted, or when git could not be started.
 */
export async function runGitOnce(args: readonly string[], options: GitRunOptions): Promise<GitOutput> {
  tally.started++;
  let launched;
  try {
    launched = await launcher.run({
      bin: options.bin ?? 'git',
      args: [...FIXED_CONFIG_ARGS, ...args],
      cwd: options.cwd,
      env: gitEnvironment(options.env),
      input: options.input ?? '',
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    const code = (error as NodeJS.ErrnoException).code;
    // A missing executable or folder will not appear by retrying; a launcher that died will be restarted.
    const make = code === 'ENOENT' || code === 'EACCES' ? permanent : transient;
    throw make(FailureCode.INTERNAL, `git could not be run: ${(error as Error).message}`, { cause: error });
  }
  const { stdout, stderr, order, code, signal } = launched;
  const both: Buffer[] = [];
  let outAt = 0;
  let errAt = 0;
  for (let i = 0; i < order.length; i += 2) {
    const length = order[i + 1]!;
    if (order[i] === 0) both.push(stdout.subarray(outAt, (outAt += length)));
    else both.push(stderr.subarray(errAt, (errAt += length)));
  }
  const text = (bytes: Buffer) => redact(bytes.toString('utf8'), options.secrets);
  return { code: code ?? (signal ? 128 : 1), stdout: text(stdout), stderr: text(stderr), output: text(Buffer.concat(both)), bytes: stdout };
}

/** git's words for "another git process holds this lock right now". */
const LOCK_CONTENTION = /\.lock'?:? File exists|Another git process seems to be running|could not lock config file/i;

/**
 * Runs git, retrying while another process holds one of the repository's lock files: several
 * workers share the clone cache, and a lock error means git changed nothing and gave up at once.
 */
export async function runGit(args: readonly string[], options: GitRunOptions): Promise<GitOutput> {
  for (let attempt = 0; ; attempt++) {
    const result = await runGitOnce(args, options);
    if (result.code === 0 || attempt >= 8 || !LOCK_CONTENTION.test(result.stderr)) return result;
    const delay = Math.min(1000, 50 * 2 ** attempt) * (0.5 + Math.random());
    await sleep(delay, undefined, { signal: options.signal });
  }
}
