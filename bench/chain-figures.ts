import { monitorEventLoopDelay } from 'node:perf_hooks';
import { countSpawns, cpuMs } from './cpu.js';
import { commitsDuring } from './database.js';
import { percentile } from './stats.js';

/** What the service's git work has cost so far (spec-chain only): processes started, and their CPU. */
export interface GitCounters {
  processes: number;
  /** CPU of the git processes and of the launcher that starts them (ms). */
  cpuMs: number;
}

/** A five-step chain as the chain benchmark drives it: the service's runs or the bare pg-boss baseline. */
export interface ChainUnderTest {
  /** The database it runs on, for its commit counter. */
  databaseUrl: string;
  /** Starts one chain; resolves with start → end in ms once its end is seen. */
  one(): Promise<number>;
  /** Makes what `many(n)` needs (features, scripts) before its measured window opens. */
  prepare?(n: number): Promise<void>;
  /** Starts `n` chains at once; resolves when all ended, with the wall time and each one's start → end. */
  many(n: number): Promise<{ wallMs: number; each: number[] }>;
  /** A line on where the time of the last `runs` chains went (`label` says which they were), if it can tell. */
  notes?(runs: number, label: string): Promise<string[]>;
  /** The git work so far, read around each measured window. */
  git?(): Promise<GitCounters>;
  /** Per-run files on disk right now (bytes, folders), sampled while many are in flight. */
  diskInUse?(): Promise<{ bytes: number; folders: number }>;
  close(): Promise<void>;
}

export interface ChainFigures {
  runs: number;
  /** The first warm-up chain (for spec-chain on a fresh cache: it fetches the repository's history). */
  firstMs: number;
  p50: number;
  p99: number;
  mean: number;
  inFlight: number;
  perSecond: number;
  inFlightP50: number;
  inFlightP99: number;
  /** Committed transactions per run over the sequential runs, and the part an idle window says is background (NaN when not measured). */
  commitsPerRun: number;
  backgroundPerRun: number;
  /** CPU per run of this process (service and clients) and of git, over the one-at-a-time runs (ms). */
  cpuPerRun: { own: number; git: number };
  /** Child processes this process itself started per run, and the time per run its event loop spent inside `spawn` (ms). */
  spawnsPerRun: { count: number; ms: number };
  /** git processes started for the service per run, one at a time and in flight. */
  gitProcessesPerRun: { alone: number; inFlight: number };
  /** This process's event-loop delay while the runs were in flight (ms). */
  loopDelay: { p99: number; max: number };
  /** The most per-run disk seen at once while the runs were in flight. */
  disk: { peakBytes: number; peakFolders: number };
  notes: string[];
}

const WARM_UP = 3;
/** monitorEventLoopDelay's timer period (ms): each sample is the time between two of its turns, this period included. */
const LOOP_SAMPLE_MS = 10;
/** How late the loop was (ms), from one of the histogram's samples (ns): the time between turns less the period. */
const lateMs = (sampleNs: number) => Math.max(0, sampleNs / 1e6 - LOOP_SAMPLE_MS);

/** Warm-up, `runs` one after another (with the database's commits counted if asked), then `inFlight` at once. */
export async function measureChain(chain: ChainUnderTest, runs: number, inFlight: number, options: { commits?: boolean } = {}): Promise<ChainFigures> {
  const firstMs = await chain.one();
  for (let i = 1; i < WARM_UP; i++) await chain.one();
  const times: number[] = [];
  let cpuPerRun = { own: 0, git: 0 };
  let gitAlone = 0;
  const spawns = countSpawns();
  const sequential = async () => {
    const before = cpuMs();
    const gitBefore = await chain.git?.();
    for (let i = 0; i < runs; i++) times.push(await chain.one());
    const after = cpuMs();
    const gitAfter = await chain.git?.();
    const gitCpu = gitBefore && gitAfter ? gitAfter.cpuMs - gitBefore.cpuMs : 0;
    gitAlone = gitBefore && gitAfter ? (gitAfter.processes - gitBefore.processes) / runs : 0;
    cpuPerRun = { own: (after.own - before.own) / runs, git: gitCpu / runs };
  };
  const commits = options.commits === false ? null : await commitsDuring(chain.databaseUrl, sequential).finally(spawns.stop);
  if (!commits) await sequential().finally(spawns.stop);
  const notes = (await chain.notes?.(runs, `${runs} one at a time`)) ?? [];

  await chain.prepare?.(inFlight);
  const delay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  const disk = { peakBytes: 0, peakFolders: 0 };
  let sampling = Promise.resolve();
  const sampler = setInterval(() => {
    if (!chain.diskInUse) return;
    sampling = sampling.then(async () => {
      const now = await chain.diskInUse!();
      disk.peakBytes = Math.max(disk.peakBytes, now.bytes);
      disk.peakFolders = Math.max(disk.peakFolders, now.folders);
    });
  }, 100);
  const gitBefore = await chain.git?.();
  delay.enable();
  const parallel = await chain.many(inFlight).finally(() => {
    delay.disable();
    clearInterval(sampler);
  });
  await sampling;
  const gitAfter = await chain.git?.();
  notes.push(...((await chain.notes?.(inFlight, `${inFlight} in flight`)) ?? []));
  return {
    runs,
    firstMs,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    inFlight,
    perSecond: inFlight / (parallel.wallMs / 1000),
    inFlightP50: percentile(parallel.each, 50),
    inFlightP99: percentile(parallel.each, 99),
    commitsPerRun: commits ? commits.total / runs : NaN,
    backgroundPerRun: commits ? commits.background / runs : NaN,
    cpuPerRun,
    spawnsPerRun: { count: spawns.count / runs, ms: spawns.ms / runs },
    gitProcessesPerRun: { alone: gitAlone, inFlight: gitBefore && gitAfter ? (gitAfter.processes - gitBefore.processes) / inFlight : 0 },
    loopDelay: { p99: lateMs(delay.percentile(99)), max: lateMs(delay.max) },
    disk,
    notes,
  };
}
