import type pg from 'pg';
import { Listener } from '../db/listener.js';
import type { Logger } from '../log.js';
import { FINAL_RUN_STATUSES, type PushListener, type PushSource } from '../interfaces.js';
import { attemptsOfRuns, type StepAttempt } from './db/attempts.js';
import { artifactsOfRuns, type WorkflowArtifact } from './db/artifacts.js';
import { eventsOfRun, type RunEvent } from './db/events.js';
import { readRun, type Run } from './db/runs.js';
import { RUN_CHANNEL } from './events.js';

/** One message of `runUpdated`: an event and the run as it is now (with its steps and artifacts). */
export interface RunUpdateData {
  version: number;
  event: RunEvent;
  run: LoadedRun;
}

/** A run with its attempts and artifacts read once for every subscriber, so no subscriber queries again. */
export interface LoadedRun {
  run: Run;
  attempts: StepAttempt[];
  artifacts: WorkflowArtifact[];
}

const updatesOf = (events: RunEvent[], run: LoadedRun): RunUpdateData[] => events.map((event) => ({ version: event.version, event, run }));

/**
 * One subscriber's queue: async iteration with back-pressure-free buffering, or, once a listener takes
 * over (`listen`: the subscription fan-out), each item handed to it as it is pushed, with no promise per item.
 */
class Queue<T> implements AsyncIterableIterator<T>, PushSource<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private listener: PushListener<T> | null = null;
  private done = false;
  /** No more items will come: the iteration ends once the buffered ones are read. */
  private ending = false;

  constructor(private readonly onClose: () => void) {}

  listen(listener: PushListener<T>): void {
    if (this.listener || this.waiting) throw new Error('a queue has one reader');
    this.listener = listener;
    for (const item of this.items.splice(0)) listener.next(item);
    if (this.done) listener.end();
    else if (this.ending) this.close();
  }

  push(item: T): void {
    if (this.done || this.ending) return;
    if (this.listener) this.listener.next(item);
    else if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: item, done: false });
    } else this.items.push(item);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
    if (this.ending) this.close();
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** Ends the iteration after what is buffered (the subscription completes). */
  finish(): void {
    if (this.done || this.ending) return;
    this.ending = true;
    if (!this.items.length || this.listener) this.close();
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.items.length = 0;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = null;
    this.listener?.end();
    this.onClose();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}

interface Subscriber {
  queue: Queue<RunUpdateData>;
  /** The last version this subscriber received: it gets exactly the versions after it, in order. */
  lastSent: number;
}

interface RunWatch {
  subscribers: Set<Subscriber>;
  /** The highest version already read from the table for this run. */
  lastRead: number;
  reading: Promise<void> | null;
  again: boolean;
}

interface RunsSubscriber {
  queue: Queue<LoadedRun>;
  matches: (run: Run) => boolean;
}

/**
 * Pushes committed transitions to subscribers. Writers NOTIFY `{runId, version}` after commit; this
 * process reads the new events (and the run) ONCE per run, whatever the number of subscribers, and hands
 * the same rows to each. Readers always read the table: a lost notification or a dropped listener costs
 * latency, never an event, and the versions a subscriber sees are contiguous.
 */
export class RunFeed {
  private readonly watches = new Map<string, RunWatch>();
  private readonly runsSubscribers = new Set<RunsSubscriber>();
  private listener: Listener | null = null;
  /** Database reads made for live delivery (the figure that stays flat as subscribers grow). */
  reads = 0;

  constructor(
    private readonly db: pg.Pool,
    private readonly databaseUrl: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.listener = new Listener(this.databaseUrl, this.log);
    this.listener.on(RUN_CHANNEL, (payload) => {
      try {
        const { runId, version } = JSON.parse(payload) as { runId: string; version: number };
        this.wake(runId, version);
      } catch {
        this.log.warn({ payload: payload.slice(0, 200) }, 'unreadable run notification');
      }
    });
    // After a dropped listener, catch up from the table for every watched run.
    this.listener.onReconnect(() => {
      for (const runId of this.watches.keys()) this.wake(runId, Number.MAX_SAFE_INTEGER);
    });
    await this.listener.start();
  }

  async stop(): Promise<void> {
    for (const w of this.watches.values()) for (const s of w.subscribers) s.queue.close();
    for (const s of this.runsSubscribers) s.queue.close();
    await this.listener?.close();
  }

  get subscriberCount(): number {
    let n = this.runsSubscribers.size;
    for (const w of this.watches.values()) n += w.subscribers.size;
    return n;
  }

  /** Every event after `afterVersion` from the table, then each new one as it commits. */
  async subscribe(runId: string, afterVersion: number): Promise<AsyncIterableIterator<RunUpdateData>> {
    let watch = this.watches.get(runId);
    if (!watch) {
      // Created synchronously, so concurrent first subscribers share one watch. Reading from version 0
      // once costs one full read; subscribers skip what they already have.
      watch = { subscribers: new Set(), lastRead: 0, reading: null, again: false };
      this.watches.set(runId, watch);
    }
    const w = watch;
    const subscriber: Subscriber = {
      lastSent: afterVersion,
      queue: new Queue(() => {
        w.subscribers.delete(subscriber);
        if (!w.subscribers.size && this.watches.get(runId) === w) this.watches.delete(runId);
      }),
    };
    // Registered before the replay, so nothing committed meanwhile is missed; versions dedupe the overlap.
    w.subscribers.add(subscriber);
    const backlog = await eventsOfRun(this.db, runId, afterVersion);
    if (backlog.length) {
      const loaded = await this.load(runId);
      if (loaded) for (const update of updatesOf(backlog, loaded)) this.deliver(subscriber, update);
    }
    return subscriber.queue;
  }

  /** Run-level changes for dashboards: the run (with steps) each time one matching `matches` changes. */
  subscribeRuns(matches: (run: Run) => boolean): AsyncIterableIterator<LoadedRun> {
    const subscriber: RunsSubscriber = { matches, queue: new Queue(() => this.runsSubscribers.delete(subscriber)) };
    this.runsSubscribers.add(subscriber);
    return subscriber.queue;
  }

  /**
   * Hands `update` to one subscriber. Live updates are ONE object per event for every subscriber of the
   * run, so the API can execute and serialise each once per distinct subscription (src/server/fanout.ts).
   */
  private deliver(s: Subscriber, update: RunUpdateData): void {
    const { event, run: loaded } = update;
    if (event.version !== s.lastSent + 1) return;
    s.lastSent = event.version;
    s.queue.push(update);
    // The run's last transition into a final state ends the subscription (a retry reopens the run: subscribe again).
    if (event.step === null && event.version === loaded.run.version && FINAL_RUN_STATUSES.includes(loaded.run.status)) s.queue.finish();
  }

  private async load(runId: string): Promise<LoadedRun | null> {
    const run = await readRun(this.db, runId);
    if (!run) return null;
    const [attempts, artifacts] = await Promise.all([attemptsOfRuns(this.db, [runId]), artifactsOfRuns(this.db, [runId])]);
    return { run, attempts, artifacts };
  }

  private wake(runId: string, version: number): void {
    const watch = this.watches.get(runId);
    if (watch && version > watch.lastRead) {
      if (watch.reading) watch.again = true;
      else watch.reading = this.read(runId, watch);
    }
    if (this.runsSubscribers.size) void this.pushRun(runId);
  }

  /** Reads the run's new events once and hands them to every subscriber of the run. */
  private async read(runId: string, watch: RunWatch): Promise<void> {
    try {
      do {
        watch.again = false;
        this.reads++;
        const events = await eventsOfRun(this.db, runId, watch.lastRead);
        if (!events.length) continue;
        const loaded = await this.load(runId);
        if (!loaded) return;
        watch.lastRead = events.at(-1)!.version;
        const updates = updatesOf(events, loaded);
        for (const s of watch.subscribers) {
          // A subscriber that is behind (it subscribed during a read) catches up from the table first.
          if (events[0]!.version > s.lastSent + 1) {
            const missed = await eventsOfRun(this.db, runId, s.lastSent, events[0]!.version - s.lastSent - 1);
            for (const update of updatesOf(missed, loaded)) this.deliver(s, update);
          }
          for (const update of updates) this.deliver(s, update);
        }
      } while (watch.again);
    } catch (err) {
      this.log.warn({ runId, err: { message: (err as Error).message } }, 'run feed read failed; retrying');
      setTimeout(() => this.wake(runId, Number.MAX_SAFE_INTEGER), 1000).unref();
    } finally {
      watch.reading = null;
    }
  }

  private async pushRun(runId: string): Promise<void> {
    try {
      const loaded = await this.load(runId);
      if (!loaded) return;
      for (const s of this.runsSubscribers) if (s.matches(loaded.run)) s.queue.push(loaded);
    } catch (err) {
      this.log.warn({ runId, err: { message: (err as Error).message } }, 'runs feed read failed');
    }
  }
}
