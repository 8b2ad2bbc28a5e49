import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tx } from '../src/db/transaction.js';
import { Step, StepState } from '../src/interfaces.js';
import { announce } from '../src/runs/events.js';
import { noteStep } from '../src/runs/transitions.js';
import { freshDatabase, type BenchServer } from './database.js';
import { startNaiveFeed } from './naive-feed.js';
import { countQueries } from './query-count.js';
import { benchRun, startService } from './service.js';
import type { SubscriberKind, SubscribersReport, SubscribersRequest } from './subscribers.js';
import { ms, percentile, ratio, until } from './stats.js';

/** The same document for both servers: what a run page's live view asks for. */
const RUN_UPDATED = `subscription($runId: ID!, $afterVersion: Int) {
  runUpdated(runId: $runId, afterVersion: $afterVersion) {
    version
    event { version step attempt from to at }
    run { id status version steps { step state attempt } }
  }
}`;

const WARM_UP = 3;
/** Subscriptions per socket, as browser tabs with a few panels would hold. */
const PER_SOCKET = 20;
/** Subscribers start from this many different versions of the run, as run pages opened at different moments. */
const SPREAD = 20;
const ARRIVAL_TIMEOUT_MS = 120_000;
/** Processes the subscribers are spread over (whole sockets each): as many as the machine has cores, by default. */
const SUBSCRIBER_PROCESSES = Math.max(1, Number(process.env.BENCH_SUBSCRIBER_PROCESSES) || availableParallelism());

/**
 * Transitions per pass: 200 for spec-chain at every count (its p99 at 1,000 is then the 2,000th latest of
 * 200,000 arrivals, not one slow transition's), fewer for the plain server, which would run for minutes.
 */
function transitionsFor(subscribers: number, server: 'spec-chain' | 'plain'): number {
  const forced = Number(process.env.BENCH_TRANSITIONS);
  if (Number.isInteger(forced) && forced > 0) return forced;
  if (server === 'spec-chain') return 200;
  return subscribers >= 1000 ? 30 : subscribers >= 100 ? 100 : 200;
}

function subscriberCounts(): number[] {
  const raw = process.env.BENCH_SUBSCRIBERS;
  return raw ? raw.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0) : [1, 100, 1000];
}

interface Pass {
  p50: number;
  p99: number;
  /** Per transition, the first and the last subscriber's arrival (p50 over transitions): where a transition's time goes. */
  firstP50: number;
  lastP50: number;
  queriesPerTransition: number;
  /** Executions of the subscription's selection per transition (spec-chain only: one per distinct subscription). */
  executionsPerTransition: number | null;
  /** CPU time (user + system) the subscribers' processes spent per transition, all of them together. */
  subscriberCpuMs: number;
}

/** What one pass needs from the server under test. */
interface Feed {
  url: string;
  runId: string;
  subscribers(): number;
  /** Tells the server a transition committed. */
  publish(version: number): Promise<void> | void;
  /** How many times the server executed a subscription event so far, where it counts them. */
  executions?: () => number;
}

/** One transition as a subscribers' process reports it: every arrival, and the CPU the process has used so far. */
interface Arrivals {
  at: number[];
  cpuMicros: number;
}

interface Waiter {
  resolve(arrivals: Arrivals): void;
  reject(err: Error): void;
}

/** The subscribers' process (bench/subscribers.ts): each transition's arrivals as it reports them. */
class Subscribers {
  private readonly child: ChildProcess = fork(fileURLToPath(new URL('./subscribers.js', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  private readonly waiting = new Map<number, Waiter>();
  private failure: Error | null = null;
  private closed: (() => void) | null = null;

  constructor() {
    this.child.on('message', (message: SubscribersReport) => {
      if (message.type === 'failed') this.fail(new Error(message.message));
      else if (message.type === 'closed') this.closed?.();
      else this.waiting.get(message.version)?.resolve(message);
    });
    this.child.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`the subscribers' process exited (${code})`));
    });
  }

  subscribe(request: Omit<Extract<SubscribersRequest, { type: 'subscribe' }>, 'type'>): void {
    this.child.send({ type: 'subscribe', ...request } satisfies SubscribersRequest);
  }

  /**
   * Every subscriber's arrival of `version` (nanoseconds of the monotonic clock). Asked before the
   * transition is published, so the report cannot come first.
   */
  arrivals(version: number): Promise<Arrivals> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Arrivals>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ARRIVAL_TIMEOUT_MS} ms waiting for transition ${version}`)), ARRIVAL_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(version);
      };
      this.waiting.set(version, {
        resolve: (arrivals) => (done(), resolve(arrivals)),
        reject: (err) => (done(), reject(err)),
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.closed = resolve));
    this.child.send({ type: 'close' } satisfies SubscribersRequest);
    await closed;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of [...this.waiting.values()]) waiter.reject(this.failure);
  }
}

/** `n` subscribers spread over SUBSCRIBER_PROCESSES processes, whole sockets of 20 in each. */
class SubscriberProcesses {
  private readonly processes: { subscribers: Subscribers; count: number }[] = [];

  constructor(n: number) {
    const sockets = Math.ceil(n / PER_SOCKET);
    const count = Math.min(SUBSCRIBER_PROCESSES, sockets);
    for (let i = 0, placed = 0, left = n; i < count; i++) {
      const mine = Math.ceil((sockets - placed) / (count - i));
      placed += mine;
      this.processes.push({ subscribers: new Subscribers(), count: Math.min(left, mine * PER_SOCKET) });
      left -= this.processes.at(-1)!.count;
    }
  }

  subscribe(request: Omit<Extract<SubscribersRequest, { type: 'subscribe' }>, 'type' | 'subscribers' | 'perSocket'>): void {
    for (const { subscribers, count } of this.processes) subscribers.subscribe({ ...request, subscribers: count, perSocket: PER_SOCKET });
  }

  /** Every arrival of `version` in every process, and the CPU all of them have used so far. */
  async arrivals(version: number): Promise<Arrivals> {
    const each = await Promise.all(this.processes.map(({ subscribers }) => subscribers.arrivals(version)));
    return { at: each.flatMap((a) => a.at), cpuMicros: each.reduce((sum, a) => sum + a.cpuMicros, 0) };
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map(({ subscribers }) => subscribers.close()));
  }
}

/**
 * One server, `n` subscribers of one `kind` in processes of their own: K transitions, each committed in its
 * own transaction and then published; the next starts when every subscriber has it. Latency = arrival at a
 * subscriber − the moment COMMIT returned, both read from the machine's monotonic clock.
 */
async function pass(feed: Feed, kind: SubscriberKind, n: number, transitions: number, commit: () => Promise<number>, queries: () => number): Promise<Pass> {
  const subscribers = new SubscriberProcesses(n);
  try {
    const afterVersion = await commit();
    subscribers.subscribe({ kind, url: feed.url, query: RUN_UPDATED, variables: { runId: feed.runId, afterVersion }, spread: SPREAD });
    await until(() => feed.subscribers() >= n, `${n} subscriptions to become active`);

    const latencies: number[] = [];
    const firsts: number[] = [];
    const lasts: number[] = [];
    let queriesBefore = 0;
    let executionsBefore = 0;
    let cpuBefore = 0;
    let cpuAfter = 0;
    for (let k = -WARM_UP; k < transitions; k++) {
      if (k === 0) {
        queriesBefore = queries();
        executionsBefore = feed.executions?.() ?? 0;
      }
    const version = await commit();
      const committed = Number(process.hrtime.bigint());
      const arrived = subscribers.arrivals(version);
      await feed.publish(version);
      const { at, cpuMicros } = await arrived;
      if (k === -1) cpuBefore = cpuMicros;
      cpuAfter = cpuMicros;
      if (k < 0) continue;
      const times = at.map((ns) => (ns - committed) / 1e6);
      for (const time of times) latencies.push(time);
      firsts.push(Math.min(...times));
      lasts.push(Math.max(...times));
    }
    const queriesPerTransition = (queries() - queriesBefore) / transitions;
    const executionsPerTransition = feed.executions ? (feed.executions() - executionsBefore) / transitions : null;
    await subscribers.close();
    await until(() => feed.subscribers() === 0, 'subscriptions to end');
    return {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      firstP50: percentile(firsts, 50),
      lastP50: percentile(lasts, 50),
      queriesPerTransition,
      executionsPerTransition,
      subscriberCpuMs: (cpuAfter - cpuBefore) / 1000 / transitions,
    };
  } catch (err) {
    await subscribers.close().catch(() => {});
    throw err;
  }
}

/** The goal of issue 14: p99 ≤ 20 ms at 1,000 subscribers and ≤ 2× the 1-subscriber p99 of the same run. */
function goalLine(label: string, p99: Map<number, number>): string | null {
  const one = p99.get(1);
  const thousand = p99.get(1000);
  if (one === undefined || thousand === undefined) return null;
  const absolute = thousand <= 20;
  const relative = thousand <= 2 * one;
  return (
    `- ${label}: ${ms(thousand)} ms at 1,000 against ${ms(one)} ms at 1 ` +
    `(${ratio(thousand, one)}): ${absolute ? 'met' : 'NOT met'} for 20 ms, ${relative ? 'met' : 'NOT met'} for 2×.`
  );
}

/**
 * Commit → subscriber latency of `runUpdated` for 1, 100 and 1,000 subscribers, beside a plain
 * graphql-ws PubSub that re-executes (and re-reads the database) per subscriber, in the same process.
 */
export async function benchSubscriptions(server: BenchServer): Promise<string> {
  const db = await freshDatabase(server, 'subscriptions');
  const dir = await mkdtemp(join(tmpdir(), 'spec-chain-bench-subs-'));
  const svc = await startService(db.url, { DATA_DIR: dir }, { supervise: false });
  const naive = await startNaiveFeed(db.url);
  const writer = await svc.app.db.connect();
  // Everything but the writer's own transaction and its NOTIFY: what delivery costs the database.
  const counter = countQueries((client, text) => client === writer || text.includes('pg_notify'));
  try {
    const runId = await benchRun(svc, 'bench/subscriptions');
    let n = 0;
    const commit = async (): Promise<number> => {
      await writer.query('BEGIN');
      const version = await noteStep(writer as Tx, runId, Step.DISCOVER, 1, StepState.QUEUED, { message: `benchmark transition ${++n}` });
      await writer.query('COMMIT');
      return version;
    };
    const ours: Feed = {
      url: svc.url,
      runId,
      subscribers: () => svc.http.feed.subscriberCount,
      publish: (version) => announce(svc.app.db, runId, version),
      executions: () => svc.http.fanout.executions,
    };
    const plain: Feed = { url: naive.url, runId, subscribers: naive.subscriberCount, publish: (version) => naive.publish({ runId, version }) };

    const rows: string[] = [];
    const frameRows: string[] = [];
    const clientP99 = new Map<number, number>();
    const frameP99 = new Map<number, number>();
    for (const subscribers of subscriberCounts()) {
      const k = transitionsFor(subscribers, 'spec-chain');
      const kPlain = transitionsFor(subscribers, 'plain');
      const a = await pass(ours, 'graphql-ws', subscribers, k, commit, counter.count);
      const f = await pass(ours, 'protocol', subscribers, k, commit, counter.count);
      const b = await pass(plain, 'graphql-ws', subscribers, kPlain, commit, counter.count);
      clientP99.set(subscribers, a.p99);
      frameP99.set(subscribers, f.p99);
      const line =
        `| ${subscribers.toLocaleString('en')} | ${k} / ${kPlain} | ${ms(a.p50)} | ${ms(a.p99)} | ${ms(a.firstP50)} / ${ms(a.lastP50)} | ${ms(b.p50)} | ${ms(b.p99)} | ` +
        `${ratio(b.p50, a.p50)} | ${ratio(b.p99, a.p99)} | ${a.queriesPerTransition.toFixed(1)} | ${b.queriesPerTransition.toFixed(1)} | ` +
        `${a.executionsPerTransition!.toFixed(1)} | ${ms(a.subscriberCpuMs)} |`;
      const frameLine = `| ${subscribers.toLocaleString('en')} | ${k} | ${ms(f.p50)} | ${ms(f.p99)} | ${ms(f.firstP50)} / ${ms(f.lastP50)} | ${ms(f.subscriberCpuMs)} |`;
      process.stderr.write(`subscriptions: ${line}\nsubscriptions (frames): ${frameLine}\n`);
      rows.push(line);
      frameRows.push(frameLine);
    }
    const goals = [
      goalLine('graphql-ws clients, a message counted when the client hands it to `next`', clientP99),
      goalLine('protocol-level clients, a message counted when its frame is read whole', frameP99),
    ].filter((line): line is string => line !== null);
    return [
      '## Subscriptions',
      '',
      'Time from a transition\'s COMMIT returning to its arrival at each `runUpdated` subscriber, for spec-chain ' +
        '(NOTIFY after commit, one read per run, the same rows handed to every subscriber) beside a plain graphql-ws PubSub ' +
        'whose resolvers re-read the event, the run and its steps for every subscriber. Same database, same run, same document, ' +
        'both servers in the benchmark\'s process.',
      '',
      '| subscribers | transitions, spec-chain / plain | spec-chain p50 ms | spec-chain p99 ms | spec-chain first / last arrival ms | plain PubSub p50 ms | plain PubSub p99 ms | ' +
        'plain / spec-chain p50 | plain / spec-chain p99 | queries per transition, spec-chain | queries per transition, plain | ' +
        'executions per transition, spec-chain | subscribers\' CPU ms per transition, spec-chain |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      'The same passes of spec-chain with subscribers that speak graphql-ws\'s protocol over `ws` directly and note each message when its ' +
        'WebSocket frame is read whole, parsing and checking every message once the sockets are quiet (bench/subscribers.ts): the time ' +
        'for a message to reach its viewer, without one process\'s parsing of the messages before it.',
      '',
      '| subscribers | transitions | p50 ms | p99 ms | first / last arrival ms | subscribers\' CPU ms per transition |',
      '| ---: | ---: | ---: | ---: | ---: | ---: |',
      ...frameRows,
      '',
      ...(goals.length ? ['Goal (p99 at 1,000 ≤ 20 ms and ≤ 2× the 1-subscriber p99 of the same run):', '', ...goals, ''] : []),
      '- A transition is one `appendEvent` (UPDATE of the run\'s version, INSERT of the event) in its own transaction; ' +
        'then spec-chain gets `announce` (a NOTIFY the feed\'s LISTEN connection receives) and the plain server an in-memory publish. ' +
        'The next transition starts when every subscriber has the last one; 3 unmeasured transitions open each pass.',
      `- Subscribers run in ${SUBSCRIBER_PROCESSES} processes of their own (bench/subscribers.ts, whole sockets in each; ` +
        'BENCH_SUBSCRIBER_PROCESSES, by default one per core), as a run page\'s viewers are, at most ' +
        '20 subscriptions per socket; arrival and COMMIT times are both read from the machine\'s monotonic clock (process.hrtime), and ' +
        'percentiles are over every (transition, subscriber) arrival. The servers are measured in turn, each pass with the others idle.',
      '- Subscribers\' CPU per transition: user + system time of the subscribers\' processes over the measured transitions (process.cpuUsage), ' +
        'all of them together: what reading and parsing the messages costs the viewers\' side, on the same two cores as the server.',
      `- Subscriber i subscribed with afterVersion ${SPREAD} versions apart at most (the last version less i mod ${SPREAD}), as run pages opened at ` +
        'different moments are; each replays what it missed, then goes live. spec-chain shares a payload across their different `afterVersion`s ' +
        '(an argument that only says where the log starts); the plain server has no replay.',
      '- First / last arrival: per transition, the first and the last subscriber to receive it (p50 over the transitions). The first ' +
        'arrival less the 1-subscriber figure is what the server spends before its first write; the last less the first is the writes to ' +
        'every socket and the subscribers\' processes reading their messages.',
      '- Queries per transition: statements any pg client of this process sent during the measured transitions, less the writer\'s ' +
        'own four (BEGIN, UPDATE, INSERT, COMMIT) and the NOTIFY: for spec-chain the feed\'s read (events after the last version, the run, ' +
        'its steps, its artifacts), for the plain server three reads per subscriber.',
      '- Executions per transition: how many times spec-chain executed the subscription\'s selection for one transition ' +
        '(src/server/fanout.ts: once per distinct document, operation, variables and role, leaving out variables that only say which ' +
        'events a subscription gets; every subscriber here asks the same selection of the same run, so 1.0 at any count, and the ' +
        'serialised `next` payload is shared too). The plain server executes once per subscriber.',
      '',
    ].join('\n');
  } finally {
    counter.stop();
    writer.release();
    await naive.close();
    await svc.close();
    await rm(dir, { recursive: true, force: true });
    await db.drop();
  }
}
