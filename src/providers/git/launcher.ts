import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One git process as the launcher reports it: exit, both streams, and the order their chunks came in. */
export interface LaunchedOutput {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  /** Pairs of (0 stdout | 1 stderr, byte count), in the order git wrote them. */
  order: number[];
}

export interface LaunchRequest {
  bin: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  input: string | Uint8Array;
  signal?: AbortSignal;
}

interface Pending {
  resolve(value: any): void;
  reject(error: Error): void;
}

/**
 * The main side of the git launcher (launcher-child.ts): every git process the service runs is started
 * by that small long-lived child, because `spawn` forks the calling process and forking the service
 * (hundreds of MB) blocks its event loop for milliseconds each time, which the API and the live feed
 * would feel. The child is started on first use, restarted if it dies, and never keeps the service alive.
 */
class Launcher {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  run(request: LaunchRequest): Promise<LaunchedOutput> {
    const { signal } = request;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const id = this.nextId++;
    const child = this.connect();
    return new Promise<LaunchedOutput>((resolve, reject) => {
      const onAbort = () => child.connected && child.send({ type: 'kill', id });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (answer: { error?: { message: string; code?: string } } & LaunchedOutput) => {
          signal?.removeEventListener('abort', onAbort);
          if (signal?.aborted) return reject(abortError(signal));
          if (answer.error) return reject(Object.assign(new Error(answer.error.message), { code: answer.error.code }));
          resolve({ ...answer, stdout: Buffer.from(answer.stdout), stderr: Buffer.from(answer.stderr) });
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      this.hold();
      const message = { type: 'run', id, bin: request.bin, args: [...request.args], cwd: request.cwd, env: request.env, input: request.input };
      child.send(message, (error) => error && this.fail(id, error));
    });
  }

  /** CPU of the launcher and of the git processes it waited for, in ms (for the benchmark). */
  stats(): Promise<{ ownMs: number; childrenMs: number }> {
    const id = this.nextId++;
    const child = this.connect();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.hold();
      child.send({ type: 'stats', id }, (error) => error && this.fail(id, error));
    });
  }

  /** A request the launcher never received (it stopped as it was sent). */
  private fail(id: number, error: Error): void {
    const waiting = this.pending.get(id);
    if (!waiting) return;
    this.pending.delete(id);
    this.release();
    waiting.reject(new Error(`The git launcher could not be reached: ${error.message}`));
  }

  private connect(): ChildProcess {
    if (this.child?.connected) return this.child;
    const { path, execArgv } = childProgram();
    const child = fork(path, [], {
      execArgv,
      // Nothing of the service's environment: each request carries the environment its git gets.
      env: { PATH: process.env.PATH ?? '' },
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.on('message', (message: { type: string; id: number }) => {
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      this.release();
      waiting.resolve(message);
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      const error = new Error(`The git launcher stopped (${signal ?? `exit ${code}`}); the git processes it ran were ended.`);
      for (const [id, waiting] of this.pending) {
        this.pending.delete(id);
        waiting.reject(error);
      }
      this.release();
    });
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }

  // The channel keeps the service alive only while git work is outstanding, as a direct spawn would.
  private hold(): void {
    if (this.pending.size === 1) this.child?.channel?.ref();
  }

  private release(): void {
    if (this.pending.size === 0) this.child?.channel?.unref();
  }
}

/** The compiled launcher beside this module, or (under the tests, which run the sources) its .ts file. */
function childProgram(): { path: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./launcher-child.js', import.meta.url));
  if (existsSync(js)) return { path: js, execArgv: [] };
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const stripsByDefault = major > 23 || (major === 23 && minor >= 6);
  return {
    path: fileURLToPath(new URL('./launcher-child.ts', import.meta.url)),
    execArgv: [...(stripsByDefault ? [] : ['--experimental-strip-types']), '--disable-warning=ExperimentalWarning'],
  };
}

function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}

export const launcher = new Launcher();
