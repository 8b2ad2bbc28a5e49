import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { tooComplex } from './parse.js';
import type { Discovery } from './types.js';
import type { ReadTask } from './worker.js';

// Reads tasks.md files off the event loop: a pool of worker threads, each read with a time budget and
// every worker with a memory limit. A read over either ends as SPEC_TOO_COMPLEX with the line it reached;
// the worker is terminated (the pool starts another), so one hostile file costs one budget, never the service.

export interface TasksReaderLimits {
  /** Budget of one read, counted from when a worker starts it (not while it waits for one). */
  timeoutMs: number;
  /** Heap limit of each worker (`resourceLimits.maxOldGenerationSizeMb`). */
  memoryMb: number;
  threads: number;
}

export const TASKS_READER_DEFAULTS: TasksReaderLimits = { timeoutMs: 10_000, memoryMb: 512, threads: 2 };
/** A worker left idle this long ends; the next read starts one. */
const IDLE_MS = 60_000;

let limits = TASKS_READER_DEFAULTS;
let pool: Piscina<ReadTask, Discovery> | null = null;

/** Sets the limits of later reads (the configuration's TASKS_READ_*); a running pool is replaced when they change. */
export function configureTasksReader(next: TasksReaderLimits): void {
  const workersChange = next.memoryMb !== limits.memoryMb || next.threads !== limits.threads;
  limits = next;
  if (workersChange && pool) {
    // Reads under way finish on the old workers; the next read starts a pool with the new limits.
    void pool.close();
    pool = null;
  }
}

/**
 * Which phase of a tasks.md is next, read in a worker thread. Resolves with an INVALID discovery
 * (SPEC_TOO_COMPLEX) when the read runs over its time or memory budget; rejects only when the pool itself
 * cannot run (no built worker file).
 */
export async function readTasks(input: string | Uint8Array, file = 'tasks.md'): Promise<Discovery> {
  const shared = new SharedArrayBuffer(16);
  const state = new BigInt64Array(shared);
  const budget = limits;
  const abort = new AbortController();
  let overTime = false;
  let timer: NodeJS.Timeout;
  // Time waiting for a free worker does not count: the timer re-arms until the worker's start is known.
  const arm = (ms: number) => {
    timer = setTimeout(() => {
      const started = Number(Atomics.load(state, 0));
      const left = started === 0 ? budget.timeoutMs : started + budget.timeoutMs - Date.now();
      if (left > 0) return arm(left);
      overTime = true;
      abort.abort();
    }, ms);
  };
  arm(budget.timeoutMs);
  try {
    return await poolOf(budget).run({ input, file, shared }, { signal: abort.signal });
  } catch (cause) {
    const reached = Number(Atomics.load(state, 1)) || null;
    if (overTime) return invalid(file, reached, `reading took over ${budget.timeoutMs} ms (TASKS_READ_TIMEOUT_MS)`);
    if ((cause as NodeJS.ErrnoException)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return invalid(file, reached, `reading needed over ${budget.memoryMb} MB of memory (TASKS_READ_MEMORY_MB)`);
    }
    throw cause;
  } finally {
    clearTimeout(timer!);
  }
}

/** Ends the pool's workers (a later read starts new ones): processes call it as they stop, so nothing keeps them up. */
export async function closeTasksReader(): Promise<void> {
  const closing = pool;
  pool = null;
  await closing?.destroy();
}

function invalid(file: string, line: number | null, construct: string): Discovery {
  return { status: 'INVALID', file, errors: [tooComplex(file, line, construct)] };
}

function poolOf({ memoryMb, threads }: TasksReaderLimits): Piscina<ReadTask, Discovery> {
  pool ??= new Piscina<ReadTask, Discovery>({
    filename: workerFile(),
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: IDLE_MS,
    resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: Math.max(16, Math.round(memoryMb / 8)) },
  });
  return pool;
}

/** The built worker (dist/src/speckit/worker.js): beside this file when built, under dist/ when this runs from src/ (tests). */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.endsWith('.ts') ? join(dirname(here), '..', '..', 'dist', 'src', 'speckit', 'worker.js') : join(dirname(here), 'worker.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build (tasks.md is read by that worker).`);
  return pathToFileURL(file).href;
}
