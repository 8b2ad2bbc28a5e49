import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** What one git invocation produced. `output` is stdout and stderr in the order git wrote them. */
export interface GitOutput {
  code: number;
  stdout: string;
  stderr: string;
  output: string;
}

export interface GitRunOptions {
  cwd: string;
  /** The git executable (a path or a name on PATH). */
  bin?: string;
  /** Extra environment entries (authentication, identities, dates). */
  env?: Record<string, string>;
  input?: string;
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

/** Runs git once, without a shell. Never rejects on a non-zero exit: the caller reads `code`. */
export function runGitOnce(args: readonly string[], options: GitRunOptions): Promise<GitOutput> {
  const configArgs = FIXED_CONFIG.flatMap((setting) => ['-c', setting]);
  return new Promise((resolve, reject) => {
    const child = spawn(options.bin ?? 'git', [...configArgs, ...args], {
      cwd: options.cwd,
      env: environment(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const both: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      both.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err.push(chunk);
      both.push(chunk);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const text = (chunks: Buffer[]) => redact(Buffer.concat(chunks).toString('utf8'), options.secrets);
      resolve({ code: code ?? (signal ? 128 : 1), stdout: text(out), stderr: text(err), output: text(both) });
    });
    // Close stdin either way: a git that waits for input would hang the worker.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
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
