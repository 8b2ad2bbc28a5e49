import os from 'node:os';
import type { Logger } from '../src/log.js';
import { SANDBOX_ENVIRONMENT, SANDBOX_REPOSITORY } from '../src/sandbox/index.js';
import { startBareChain } from './bare-chain.js';
import { measureChain, type ChainFigures, type ChainUnderTest } from './chain-figures.js';
import { freshDatabase, type BenchServer } from './database.js';
import { LARGE_ENVIRONMENT, LARGE_REPOSITORY, largeRepository } from './large-repo.js';
import { startSpecChains } from './spec-chain-runs.js';
import { ms, ratio } from './stats.js';

function count(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: "${raw}" is not a positive whole number`);
  return n;
}

/** One chain on its own fresh database, measured and torn down whatever happens. */
async function measureOn(server: BenchServer, label: string, start: (url: string) => Promise<ChainUnderTest>, runs: number, inFlight: number): Promise<ChainFigures> {
  const db = await freshDatabase(server, label);
  try {
    const chain = await start(db.url);
    try {
      return await measureChain(chain, runs, inFlight);
    } finally {
      await chain.close();
    }
  } finally {
    await db.drop();
  }
}

/**
 * The chain: start → SUCCEEDED of one run at a time and runs per second with many in flight, on the
 * demo repository and on a generated large one (same service, same Codex diff), beside a bare pg-boss
 * chain of five empty jobs with the same queue options, measured in the same process and run.
 */
export async function benchChain(server: BenchServer, log: Logger): Promise<string> {
  const runs = count('BENCH_RUNS', 40);
  const inFlight = count('BENCH_IN_FLIGHT', 100);
  const large = await largeRepository((line) => log.info(line));
  const bare = await measureOn(server, 'bare', (url) => startBareChain(url, log), runs, inFlight);
  const db = await freshDatabase(server, 'chain');
  let demo: ChainFigures;
  let big: ChainFigures;
  try {
    const specChains = await startSpecChains(db.url, large.path, [
      { repository: SANDBOX_REPOSITORY, environment: SANDBOX_ENVIRONMENT.label },
      { repository: LARGE_REPOSITORY, environment: LARGE_ENVIRONMENT.label },
    ]);
    try {
      demo = await measureChain(specChains.chains[0]!, runs, inFlight);
      // The database's commits per run do not depend on the repository: counted once, for the demo.
      big = await measureChain(specChains.chains[1]!, runs, inFlight, { commits: false });
    } finally {
      await specChains.close();
    }
  } finally {
    await db.drop();
  }

  const fixed = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const cores = os.cpus().length;
  const ceiling = (f: ChainFigures) => (cores * 1000) / (f.cpuPerRun.own + f.cpuPerRun.git);
  const gitCeiling = (f: ChainFigures) => (cores * 1000) / f.cpuPerRun.git;
  type Cell = (f: ChainFigures) => number;
  const row = (name: string, cell: Cell, format: (n: number) => string = ms) =>
    `| ${name} | ${format(cell(demo))} | ${format(cell(big))} | ${ratio(cell(big), cell(demo))} | ${format(cell(bare))} | ${ratio(cell(demo), cell(bare))} | ${ratio(cell(big), cell(bare))} |`;
  const only = (name: string, cell: Cell, format: (n: number) => string = ms) =>
    `| ${name} | ${format(cell(demo))} | ${format(cell(big))} | ${ratio(cell(big), cell(demo))} | | | |`;
  const goal = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const largeOverDemo = big.p50 / demo.p50;
  const largeOverDemoInFlight = demo.perSecond / big.perSecond;
  const worstDelay = Math.max(demo.loopDelay.p99, big.loopDelay.p99);
  const vsBare = Math.min(demo.perSecond, big.perSecond) / bare.perSecond;
  return [
    '## The chain',
    '',
    `spec-chain's five-step run (API, feed and workers in this process; the Codex Cloud and GitHub emulators in a process of their own, answering at once) ` +
      `on the demo repository (${SANDBOX_REPOSITORY}) and on a generated large one (${LARGE_REPOSITORY}: ${large.files.toLocaleString('en')} files, ` +
      `${large.commits.toLocaleString('en')} commits, ${(large.blobBytes / 2 ** 20).toFixed(0)} MB of blobs), beside a bare pg-boss 12 chain of five empty jobs ` +
      `on the same queue and worker options, in the same run. 3 warm-up chains each (the first on a fresh clone cache), then ${runs} one after another, then ${inFlight} started at once.`,
    '',
    '| figure | demo | large | large / demo | bare pg-boss chain | demo / bare | large / bare |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    only('first run, on a fresh clone cache (ms)', (f) => f.firstMs),
    row(`start → end p50, one at a time (ms, ${runs} runs)`, (f) => f.p50),
    row(`start → end p99, one at a time (ms, ${runs} runs)`, (f) => f.p99),
    row('runs per second, one at a time (1000 ÷ mean)', (f) => 1000 / f.mean, fixed),
    row(`runs per second, ${inFlight} in flight`, (f) => f.perSecond, fixed),
    row(`start → end p50 with ${inFlight} in flight (ms)`, (f) => f.inFlightP50),
    row(`start → end p99 with ${inFlight} in flight (ms)`, (f) => f.inFlightP99),
    only('database commits per run (one at a time)', (f) => f.commitsPerRun, fixed),
    only('… of which background, from an idle window', (f) => f.backgroundPerRun, fixed),
    row('CPU per run of this process: service and its clients (ms, one at a time)', (f) => f.cpuPerRun.own),
    only('CPU per run of git: the processes, the launcher, the object reader (ms)', (f) => f.cpuPerRun.git),
    only('git processes started for the service per run, one at a time', (f) => f.gitProcessesPerRun.alone, fixed),
    only(`… per run with ${inFlight} in flight (fetches shared)`, (f) => f.gitProcessesPerRun.inFlight, fixed),
    row('child processes this process itself started per run (one at a time)', (f) => f.spawnsPerRun.count, fixed),
    row('… its event loop blocked inside `spawn` per run (ms)', (f) => f.spawnsPerRun.ms),
    row(`event-loop delay p99 with ${inFlight} in flight (ms)`, (f) => f.loopDelay.p99),
    row(`event-loop delay max with ${inFlight} in flight (ms)`, (f) => f.loopDelay.max),
    only(`per-run disk held at once with ${inFlight} in flight: peak (temporary indexes)`, (f) => f.disk.peakBytes, kib),
    only('… in that many step folders at the peak', (f) => f.disk.peakFolders, (n) => String(n)),
    only(`… per run in flight (peak ÷ ${inFlight})`, (f) => f.disk.peakBytes / inFlight, kib),
    row(`runs per second the ${cores} cores could give at that CPU per run`, ceiling, fixed),
    '',
    `- Goals: large / demo start → SUCCEEDED p50 one at a time ${largeOverDemo.toFixed(2)}× and time per run with ${inFlight} in flight ` +
      `${largeOverDemoInFlight.toFixed(2)}× (goal ≤ 1.5×: ${goal(largeOverDemo <= 1.5 && largeOverDemoInFlight <= 1.5)}); event-loop delay p99 with ${inFlight} in flight ` +
      `${ms(worstDelay)} ms (goal ≤ 20 ms: ${goal(worstDelay <= 20)}); runs per second in flight against the bare chain ${vsBare.toPrecision(3)}× ` +
      `for the slower repository (goal ≥ 0.2×: ${goal(vsBare >= 0.2)}).`,
    `- The git processes alone (${ms(demo.cpuPerRun.git)} ms of CPU per demo run, ${ms(big.cpuPerRun.git)} ms per large one) would let the ` +
      `${cores} cores give at most ${fixed(gitCeiling(demo))} and ${fixed(gitCeiling(big))} runs per second if nothing else ran: ` +
      `${ratio(gitCeiling(demo), bare.perSecond)} and ${ratio(gitCeiling(big), bare.perSecond)} of the bare chain's ${fixed(bare.perSecond)}.`,
    ...demo.notes,
    ...big.notes,
    `- spec-chain: start = before the \`startSpecPhase\` POST; end = arrival of the run's SUCCEEDED transition at a ` +
      '`runUpdated` subscriber (graphql-ws, subscribed as soon as the mutation answered), so the end is the push itself. ' +
      'One-at-a-time runs each have a feature of their own, a copy of 001-greeting on a branch of 100 such copies (a published phase waits in review, so a second run of it would end IN_REVIEW at discovery); ' +
      `the ${inFlight} in flight are one run per feature on a branch with ${inFlight} copies of its tasks.md.`,
    '- Emulators: `GITHUB_MUTATION_INTERVAL_MS=0`, `CODEX_POLL_INTERVAL_SECONDS=1`; the Codex emulator answers READY on the ' +
      'first poll with a fixed diff (a function added to src/widgets.js, a new src/greeting.js), so no poll wait happens and apply never ' +
      're-queues itself, and the emulated agent makes no checkout of the large repository. Each run still does all of its git work ' +
      '(fetch of the base branch into a bare partial clone, reading the tasks file from the commit, `git apply --3way` on a temporary ' +
      'index, `commit-tree`, one leased push by commit id) and its GitHub GraphQL calls.',
    '- CPU: user + system time of this Node process (service and the benchmark\'s clients) from `process.cpuUsage()`; git: the ' +
      'git processes the service had started (by its launcher, a small long-lived process, so the service never forks itself) and the ' +
      'launcher, from /proc, plus the long-lived `git cat-file` object reader. PostgreSQL\'s and the emulators\' CPU are in neither. ' +
      'The ceiling row is cores ÷ (the two CPU rows): what the runs in flight could reach if nothing else ran on the machine.',
    '- Event-loop delay: `perf_hooks.monitorEventLoopDelay` (10 ms resolution) in this process while the runs were in flight: ' +
      'what the API and the live feed waited for the loop. Its histogram holds the time between two turns of a 10 ms timer, the 10 ms ' +
      'included (an idle loop reads 10.1 ms); the figures are that less 10 ms, how late the loop was (as @fastify/under-pressure reads it). Disk: the step folders under the clone cache\'s `.scratch` ' +
      '(a temporary index each, removed when the step\'s git work ends), sampled every 100 ms; nothing else of a run is on disk.',
    '- Bare chain: start = `send` of the first job; end = the fifth handler being called. Each handler `send`s the next job; ' +
      'no transaction, no run row, no events.',
    '- Commits: the `xact_commit` delta of the benchmark database in `pg_stat_database` over the one-at-a-time runs ' +
      '(read after an 11 s settle so idle backends have reported), divided by the runs. It counts every committed transaction, ' +
      'read-only ones included: for spec-chain the run transitions and job sends, pg-boss fetches, completions, ' +
      'polling and maintenance, the API reads of the mutation, the feed\'s reads for the subscription, and LISTEN/NOTIFY statements. ' +
      'The background line is the rate measured in an idle window just before, times the measured time: polling and maintenance ' +
      'that would happen with no run at all.',
    '',
  ].join('\n');
}
