import os from 'node:os';
import type { Logger } from '../src/log.js';
import { startBareChain } from './bare-chain.js';
import { measureChain, type ChainFigures, type ChainUnderTest } from './chain-figures.js';
import { freshDatabase, type BenchServer } from './database.js';
import { startSpecChain } from './spec-chain-runs.js';
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
 * The chain: start → SUCCEEDED of one run at a time and runs per second with many in flight, beside a
 * bare pg-boss chain of five empty jobs with the same queue options, measured in the same process.
 */
export async function benchChain(server: BenchServer, log: Logger): Promise<string> {
  const runs = count('BENCH_RUNS', 200);
  const inFlight = count('BENCH_IN_FLIGHT', 100);
  const bare = await measureOn(server, 'bare', (url) => startBareChain(url, log), runs, inFlight);
  const ours = await measureOn(server, 'chain', startSpecChain, runs, inFlight);
  const row = (name: string, a: number, b: number, format: (n: number) => string = ms) => `| ${name} | ${format(a)} | ${format(b)} | ${ratio(a, b)} |`;
  const fixed = (n: number) => n.toFixed(1);
  const cores = os.cpus().length;
  const ceiling = (f: ChainFigures) => (cores * 1000) / (f.cpuPerRun.own + f.cpuPerRun.children);
  return [
    '## The chain',
    '',
    `spec-chain's five-step run (API, feed and workers in this process; Codex Cloud and GitHub emulators answering at once) ` +
      `beside a bare pg-boss 12 chain of five empty jobs on the same queue and worker options, in the same run. ` +
      `Each on its own fresh database; 3 warm-up chains each, then ${runs} one after another, then ${inFlight} started at once.`,
    '',
    '| figure | spec-chain | bare pg-boss chain | spec-chain / bare |',
    '| --- | ---: | ---: | ---: |',
    row(`start → end p50, one at a time (ms, ${runs} runs)`, ours.p50, bare.p50),
    row(`start → end p99, one at a time (ms, ${runs} runs)`, ours.p99, bare.p99),
    row('start → end mean, one at a time (ms)', ours.mean, bare.mean),
    row('runs per second, one at a time (1000 ÷ mean)', 1000 / ours.mean, 1000 / bare.mean, fixed),
    row(`runs per second, ${inFlight} in flight`, ours.perSecond, bare.perSecond, fixed),
    row(`start → end p50 with ${inFlight} in flight (ms)`, ours.inFlightP50, bare.inFlightP50),
    row(`start → end p99 with ${inFlight} in flight (ms)`, ours.inFlightP99, bare.inFlightP99),
    row('database commits per run (one at a time)', ours.commitsPerRun, bare.commitsPerRun, fixed),
    row('… of which background, from an idle window', ours.backgroundPerRun, bare.backgroundPerRun, fixed),
    row('CPU per run in this process: service, emulators, clients (ms, one at a time)', ours.cpuPerRun.own, bare.cpuPerRun.own),
    row('CPU per run in child processes: git (ms, one at a time)', ours.cpuPerRun.children, bare.cpuPerRun.children),
    row('child processes started per run (one at a time)', ours.spawnsPerRun.count, bare.spawnsPerRun.count, fixed),
    row('… event loop blocked inside `spawn` per run (ms)', ours.spawnsPerRun.ms, bare.spawnsPerRun.ms),
    row(`runs per second the ${cores} cores could give at that CPU per run`, ceiling(ours), ceiling(bare), fixed),
    '',
    ...ours.notes,
    `- spec-chain: start = before the \`startSpecPhase\` POST; end = arrival of the run's SUCCEEDED transition at a ` +
      '`runUpdated` subscriber (graphql-ws, subscribed as soon as the mutation answered), so the end is the push itself. ' +
      'One-at-a-time runs are all of feature 001-greeting (a second active run of a feature is refused `RUN_ACTIVE`); ' +
      `the ${inFlight} in flight are one run per feature on a branch with ${inFlight} copies of its tasks.md.`,
    '- Emulators: `GITHUB_MUTATION_INTERVAL_MS=0`, `CODEX_POLL_INTERVAL_SECONDS=1`; the Codex emulator answers READY on the ' +
      'first poll, so no poll wait happens and apply never re-queues itself. Each run still does its real git work ' +
      '(the emulated agent edits a checkout; apply and publish make a worktree, `git apply --3way`, commit, push) and its GitHub GraphQL calls.',
    '- CPU: user + system time of this Node process (service, emulators, clients) and of the child processes it waited for ' +
      '(git, from the steps and the emulated Codex agent and GitHub), from `process.cpuUsage()` and /proc/self/stat; PostgreSQL\'s own ' +
      'CPU is not in it. `spawn` forks and execs synchronously, so the time inside it is part of this process\'s CPU and ' +
      'stalls everything else in it (API, feed, workers, emulators) meanwhile. The ceiling row is cores ÷ (the two CPU rows): ' +
      'what the runs in flight could reach if nothing else ran on the machine.',
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
