// The git launcher: a small Node process that starts git for the service, so the service's own (large)
// process never forks. It is run by src/providers/git/launcher.ts, both compiled (dist/…/launcher-child.js)
// and as this .ts file under Node's type stripping in the tests, so it imports nothing but Node itself
// and uses only erasable TypeScript.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** What the service asks for: one git process, its arguments, environment and standard input. */
interface RunMessage {
  type: 'run';
  id: number;
  bin: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  input: Uint8Array | string;
}

interface KillMessage {
  type: 'kill';
  id: number;
}

interface StatsMessage {
  type: 'stats';
  id: number;
}

type Message = RunMessage | KillMessage | StatsMessage;

const running = new Map<number, ChildProcess>();
const stopped = new Set<number>();

/** Ends a git and everything it started (its process group). */
function stop(id: number, signal: NodeJS.Signals): void {
  const child = running.get(id);
  if (!child?.pid) return;
  stopped.add(id);
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

function reply(message: unknown): void {
  if (process.connected) process.send!(message);
}

function start(message: RunMessage): void {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  // Which stream each chunk came from, in the order git wrote them: the caller rebuilds the interleaved output.
  const order: number[] = [];
  let child: ChildProcess;
  try {
    // A process group of its own: stopping git also stops the helpers it started (git-remote-http, a
    // lazy fetch), which would otherwise hold its output pipes open and keep the caller waiting.
    child = spawn(message.bin, message.args, { cwd: message.cwd, env: message.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  } catch (error) {
    reply({ type: 'done', id: message.id, error: describe(error) });
    return;
  }
  running.set(message.id, child);
  child.stdout!.on('data', (chunk: Buffer) => {
    out.push(chunk);
    order.push(0, chunk.length);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err.push(chunk);
    order.push(1, chunk.length);
  });
  let replied = false;
  const done = (answer: Record<string, unknown>) => {
    if (replied) return;
    replied = true;
    running.delete(message.id);
    stopped.delete(message.id);
    reply({ type: 'done', id: message.id, ...answer });
  };
  // A git that could not be started (no such executable, no such folder) never ran: say why.
  child.on('error', (error) => {
    if (child.pid === undefined) done({ error: describe(error) });
  });
  child.on('close', (code, signal) => done({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err), order }));
  // A stopped git is answered when it exits, whatever its helpers still hold open.
  child.on('exit', (code, signal) => {
    if (stopped.has(message.id)) done({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err), order });
  });
  // Close stdin either way: a git that waits for input would hang. A git that exits before reading closes the pipe.
  child.stdin!.on('error', () => {});
  child.stdin!.end(message.input);
}

function describe(error: unknown): { message: string; code?: string } {
  const e = error as NodeJS.ErrnoException;
  return { message: e?.message ?? String(error), code: e?.code };
}

/** CPU of this process and of the git processes it has waited for (ms), for the benchmark. */
function stats(id: number): void {
  const own = process.cpuUsage();
  let children = 0;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // cutime and cstime, in clock ticks of 1/100 s.
    children = (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    // Not Linux: own CPU only.
  }
  reply({ type: 'stats', id, ownMs: (own.user + own.system) / 1000, childrenMs: children });
}

process.on('message', (message: Message) => {
  if (message.type === 'run') start(message);
  else if (message.type === 'kill') stop(message.id, 'SIGTERM');
  else if (message.type === 'stats') stats(message.id);
});

// A Ctrl-C or a supervisor's SIGTERM reaches the whole process group: the service decides when to stop,
// and this process ends with it (below), not before it.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});

// The service went away (exit, crash or SIGKILL): its git processes have no one to report to.
process.on('disconnect', () => {
  for (const id of running.keys()) stop(id, 'SIGKILL');
  process.exit(0);
});
