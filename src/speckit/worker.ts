import { discover } from './next-phase.js';
import type { Discovery } from './types.js';

// One read of a tasks.md in a worker thread of the pool (pool.ts): the reader itself, unchanged.

/** What the pool sends: the file, and a shared buffer the worker writes its start time and the line reached into. */
export interface ReadTask {
  input: string | Uint8Array;
  file: string;
  /** BigInt64Array view: [0] start time (ms since the epoch) once the read begins, [1] 1-based line reached. */
  shared: SharedArrayBuffer;
}

export default function readInWorker({ input, file, shared }: ReadTask): Discovery {
  const state = new BigInt64Array(shared);
  Atomics.store(state, 0, BigInt(Date.now()));
  return discover(input, file, (line) => void Atomics.store(state, 1, BigInt(line + 1)));
}
