import { countSpawns, cpuMs } from './cpu.js';
import { commitsDuring } from './database.js';
import { percentile } from './stats.js';

/** A five-step chain as the chain benchmark drives it: the service's runs or the bare pg-boss baseline. */
export interface ChainUnderTest {
  /** The database it runs on, for its commit counter. */
  databaseUrl: string;
  /** Starts one chain; resolves with start → end in ms once its end is seen. */
  one(): Promise<number>;
  /** Starts `n` chains at once; resolves when all ended, with the wall time and each one's start → end. */
  many(n: number): Promise<{ wallMs: number; each: number[] }>;
  /** A line on where the time of the last `runs` chains went (`label` says which they were), if it can tell. */
  notes?(runs: number, label: string): Promise<string[]>;
  close(): Promise<void>;
}

export interface ChainFigures {
  runs: number;
  p50: number;
  p99: number;
  mean: number;
  inFlight: number;
  perSecond: number;
  inFlightP50: number;
  inFlightP99: number;
  /** Committed transactions per run over the sequential runs, and the part an idle window says is background. */
  commitsPerRun: number;
  backgroundPerRun: number;
  /** CPU per run of this process and of its child processes, over the one-at-a-time runs (ms). */
  cpuPerRun: { own: number; children: number };
  /** Child processes started per run, and the time per run the event loop spent inside `spawn` (ms). */
  spawnsPerRun: { count: number; ms: number };
  notes: string[];
}

const WARM_UP = 3;

/** Warm-up, `runs` one after another (with the database's commits counted), then `inFlight` at once. */
export async function measureChain(chain: ChainUnderTest, runs: number, inFlight: number): Promise<ChainFigures> {
  for (let i = 0; i < WARM_UP; i++) await chain.one();
  const times: number[] = [];
  let cpuPerRun = { own: 0, children: 0 };
  const spawns = countSpawns();
  const commits = await commitsDuring(chain.databaseUrl, async () => {
    const before = cpuMs();
    for (let i = 0; i < runs; i++) times.push(await chain.one());
    const after = cpuMs();
    cpuPerRun = { own: (after.own - before.own) / runs, children: (after.children - before.children) / runs };
  }).finally(spawns.stop);
  const notes = (await chain.notes?.(runs, `${runs} one at a time`)) ?? [];
  const parallel = await chain.many(inFlight);
  notes.push(...((await chain.notes?.(inFlight, `${inFlight} in flight`)) ?? []));
  return {
    runs,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    inFlight,
    perSecond: inFlight / (parallel.wallMs / 1000),
    inFlightP50: percentile(parallel.each, 50),
    inFlightP99: percentile(parallel.each, 99),
    commitsPerRun: commits.total / runs,
    backgroundPerRun: commits.background / runs,
    cpuPerRun,
    spawnsPerRun: { count: spawns.count / runs, ms: spawns.ms / runs },
    notes,
  };
}
