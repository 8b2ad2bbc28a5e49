import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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
import type { SubscribersReport, SubscribersRequest } from './subscribers.js';
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
/** Subscribers start from this many different versions of the run, as run pages opened at different moments. */
const SPREAD = 20;
const ARRIVAL_TIMEOUT_MS = 120_000;

/** Transitions per subscriber count: enough arrivals for a p99 without letting the naive 1,000 run for minutes. */
function transitionsFor(subscribers: number): number {
  const forced = Number(process.env.BENCH_TRANSITIONS);
  if (Number.isInteger(forced) && forced > 0) return forced;
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

interface Waiter {
  resolve(at: number[]): void;
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
      else this.waiting.get(message.version)?.resolve(message.at);
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
  arrivals(version: number): Promise<number[]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<number[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ARRIVAL_TIMEOUT_MS} ms waiting for transition ${version}`)), ARRIVAL_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(version);
      };
      this.waiting.set(version, {
        resolve: (at) => (done(), resolve(at)),
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

/**
 * One server, `n` subscribers in a process of their own: K transitions, each committed in its own
 * transaction and then published; the next starts when every subscriber has it. Latency = arrival at a
 * subscriber − the moment COMMIT returned, both read from the machine's monotonic clock.
 */
async function pass(feed: Feed, n: number, transitions: number, commit: () => Promise<number>, queries: () => number): Promise<Pass> {
  const subscribers = new Subscribers();
  try {
    const afterVersion = await commit();
    subscribers.subscribe({ url: feed.url, query: RUN_UPDATED, variables: { runId: feed.runId, afterVersion }, spread: SPREAD, subscribers: n });
    await until(() => feed.subscribers() >= n, `${n} subscriptions to become active`);

    const latencies: number[] = [];
    const firsts: number[] = [];
    const lasts: number[] = [];
    let queriesBefore = 0;
    let executionsBefore = 0;
    for (let k = -WARM_UP; k < transitions; k++) {
      if (k === 0) {
        queriesBefore = queries();
        executionsBefore = feed.executions?.() ?? 0;
      }
      const version = await commit();
      const committed = Number(process.hrtime.bigint());
      const arrived = subscribers.arrivals(version);
      await feed.publish(version);
      const at = await arrived;
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
    };
  } catch (err) {
    await subscribers.close().catch(() => {});
    throw err;
  }
}

/** The goal of issue 14: p99 ≤ 20 ms at 1,000 subscribers and ≤ 2× the 1-subscriber p99 of the same run. */
function goalLine(p99: Map<number, number>): string | null {
  const one = p99.get(1);
  const thousand = p99.get(1000);
  if (one === undefined || thousand === undefined) return null;
  const absolute = thousand <= 20;
  const relative = thousand <= 2 * one;
  return (
    `Goal (p99 at 1,000 ≤ 20 ms and ≤ 2× the 1-subscriber p99): ${ms(thousand)} ms at 1,000 against ${ms(one)} ms at 1 ` +
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
    const ourP99 = new Map<number, number>();
    for (const subscribers of subscriberCounts()) {
      const k = transitionsFor(subscribers);
      const a = await pass(ours, subscribers, k, commit, counter.count);
      const b = await pass(plain, subscribers, k, commit, counter.count);
      ourP99.set(subscribers, a.p99);
      const line =
        `| ${subscribers.toLocaleString('en')} | ${k} | ${ms(a.p50)} | ${ms(a.p99)} | ${ms(a.firstP50)} / ${ms(a.lastP50)} | ${ms(b.p50)} | ${ms(b.p99)} | ` +
        `${ratio(b.p50, a.p50)} | ${ratio(b.p99, a.p99)} | ${a.queriesPerTransition.toFixed(1)} | ${b.queriesPerTransition.toFixed(1)} | ` +
        `${a.executionsPerTransition!.toFixed(1)} |`;
      process.stderr.write(`subscriptions: ${line}\n`);
      rows.push(line);
    }
    const goal = goalLine(ourP99);
    return [
      '## Subscriptions',
      '',
      'Time from a transition\'s COMMIT returning to its arrival at each `runUpdated` subscriber, for spec-chain ' +
        '(NOTIFY after commit, one read per run, the same rows handed to every subscriber) beside a plain graphql-ws PubSub ' +
        'whose resolvers re-read the event, the run and its steps for every subscriber. Same database, same run, same document, ' +
        'both servers in the benchmark\'s process.',
      '',
      '| subscribers | transitions | spec-chain p50 ms | spec-chain p99 ms | spec-chain first / last arrival ms | plain PubSub p50 ms | plain PubSub p99 ms | ' +
        'plain / spec-chain p50 | plain / spec-chain p99 | queries per transition, spec-chain | queries per transition, plain | ' +
        'executions per transition, spec-chain |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      ...(goal ? [goal, ''] : []),
      '- A transition is one `appendEvent` (UPDATE of the run\'s version, INSERT of the event) in its own transaction; ' +
        'then spec-chain gets `announce` (a NOTIFY the feed\'s LISTEN connection receives) and the plain server an in-memory publish. ' +
        'The next transition starts when every subscriber has the last one; 3 unmeasured transitions open each pass.',
      '- Subscribers are graphql-ws clients in a process of their own (bench/subscribers.ts), as a run page\'s viewers are, at most ' +
        '20 subscriptions per socket; arrival and COMMIT times are both read from the machine\'s monotonic clock (process.hrtime), and ' +
        'percentiles are over every (transition, subscriber) arrival. The two servers are measured in turn, each pass with the other idle, so they do not ' +
        'compete for the two cores.',
      `- Subscriber i subscribed with afterVersion ${SPREAD} versions apart at most (the last version less i mod ${SPREAD}), as run pages opened at ` +
        'different moments are; each replays what it missed, then goes live. spec-chain shares a payload across their different `afterVersion`s ' +
        '(an argument that only says where the log starts); the plain server has no replay.',
      '- First / last arrival: per transition, the first and the last subscriber to receive it (p50 over the transitions). The first ' +
        'arrival less the 1-subscriber figure is what the server spends on every subscription before its first write (graphql-ws\'s ' +
        'per-subscription `next`, the shared text, the corked frames of one turn); the last less the first is the writes to every socket ' +
        'and the subscribers\' process reading its messages one after another.',
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
