import type { Job, PgBoss } from 'pg-boss';
import type { Config } from '../config.js';
import type { DataSource } from 'typeorm';
import { Listener } from '../db/listener.js';
import { isTransactionConflict } from '../db/transaction.js';
import { CredentialSet } from '../entities/index.js';
import { githubSecretRef } from '../entities/CredentialSet.js';
import { pgTokenCache } from '../providers/github/app-tokens.js';
import { FailureCode, FailureKind, RunStatus, Service, Step, STEP_ORDER, WaitReason } from '../interfaces.js';
import type { Logger } from '../log.js';
import { ProviderError } from '../providers/errors.js';
import { redactSecrets } from '../providers/redact.js';
import { createProviders, type Providers } from '../providers/index.js';
import { ArtifactStore } from '../runs/artifacts.js';
import { holdsClaim, touchAttempt } from '../runs/db/attempts.js';
import { readRun } from '../runs/db/runs.js';
import { announce } from '../runs/events.js';
import { apply } from './apply.js';
import { claimStep, type Claim } from './claim.js';
import { discover } from './discover.js';
import { finalize } from './finalize.js';
import { completeStep, endEarly, failLostStep, failStep, handOverStep, recordUndo, retryStep, waitStep, type Failure, type Runtime, type Settled } from './outcomes.js';
import { publish } from './publish.js';
import { CANCEL_CHANNEL, createQueues, EXPIRY_MARGIN_SECONDS, HEARTBEAT_SECONDS, LOST_QUEUE, LOST_WORKER_RETRIES, QUEUE, type StepJob } from './queues.js';
import { capacityPause, enterCodexLine, pauseCodex, releaseCodexSlot, sharedGitHubLimits, takeCodexSlot, wakeCodexLine } from './capacity.js';
import { ClaimLost, HandOver, RunCancelled, StepFailure, type AttemptInfo, type StepDefinition, type StepPolicy, type StepResult, type UndoReport } from './step.js';
import { submit } from './submit.js';

// The chain runner: for one step job, claim → the step's own work → one verb for its outcome. It alone
// reads each step's policy (retries, backoff, polling, timeout).

/** Every step, in chain order. */
export const STEPS: Record<Step, StepDefinition> = {
  [Step.DISCOVER]: discover,
  [Step.SUBMIT]: submit,
  [Step.APPLY]: apply,
  [Step.PUBLISH]: publish,
  [Step.FINALIZE]: finalize,
};

/** What a worker process runs on. */
export interface WorkerServices extends Runtime {
  config: Config;
  log: Logger;
  ds: DataSource;
  databaseUrl: string;
  /** Names this process in step_attempt.worker_id and the logs. */
  workerId: string;
}

/** Creates or updates the step queues with each step's expiry: its timeout plus a margin. */
export async function createStepQueues(boss: PgBoss, config: Config): Promise<void> {
  const expiry = Object.fromEntries(STEP_ORDER.map((s) => [s, STEPS[s].policy(config).timeoutSeconds + EXPIRY_MARGIN_SECONDS])) as Record<Step, number>;
  await createQueues(boss, expiry);
}

/** Pause before try n + 1 (or look n + 1), ±20 % so many runs that failed together do not retry together. */
export function pauseMs(base: number, max: number, factor: number, n: number): number {
  return Math.round(Math.min(base * factor ** Math.max(0, n - 1), max) * (0.8 + Math.random() * 0.4));
}

/** The service a secret reference of the run's credential set is for, so a remediation names the right one. */
function serviceOf(set: CredentialSet | null, ref: string | undefined): Service | null {
  if (!set || !ref) return null;
  if (ref === set.codexAuthRef) return Service.CODEX;
  if (ref === githubSecretRef(set)) return Service.GITHUB;
  return null;
}

/** Runs in flight in this process, so a cancel can abort their outside calls. */
const inFlight = new Map<string, AbortController>();

/** A run waiting for a Codex slot looks again after this even if no freed slot wakes it (a crash between the two). */
const CAPACITY_BACKSTOP_MS = 60_000;

/** Decides the outcome of a try from its result or error and the step's policy, and settles it with one verb. */
async function settle(
  rt: Runtime,
  claim: Claim,
  policy: StepPolicy,
  info: AttemptInfo,
  outcome: { result: StepResult } | { error: unknown },
  credentialSet: CredentialSet | null,
): Promise<Settled & { wakeAfterMs?: number }> {
  if ('result' in outcome) {
    const { result } = outcome;
    if (result.kind === 'done') return completeStep(rt, claim, result);
    if (result.kind === 'no-work') return endEarly(rt, claim, result, RunStatus.NO_WORK);
    if (result.kind === 'in-review') return endEarly(rt, claim, result, RunStatus.IN_REVIEW);
    const waiting = result.waitingFor;
    if (waiting?.reason === WaitReason.CODEX_CAPACITY) {
      const line = { id: claim.runId, credentialSetId: waiting.key! };
      const settled = await waitStep(rt, claim, result, waiting, (tx) => capacityPause(tx, line, CAPACITY_BACKSTOP_MS), (tx) => enterCodexLine(tx, line.credentialSetId));
      return { ...settled, wakeAfterMs: settled.delayMs };
    }
    if (waiting) {
      const delay = Math.max(0, (waiting.until?.getTime() ?? Date.now() + CAPACITY_BACKSTOP_MS) - Date.now());
      return { ...(await waitStep(rt, claim, result, waiting, delay)), wakeAfterMs: delay };
    }
    const poll = policy.poll!;
    const looks = Number(result.payload?.polls ?? 1);
    if (Date.now() - info.startedAt.getTime() > poll.deadlineMs) {
      const minutes = Math.round(poll.deadlineMs / 60_000);
      return failStep(rt, claim, { code: poll.code, kind: FailureKind.PERMANENT, message: `${result.message}; still not ready after ${minutes} minutes (${looks} looks).` }, result);
    }
    const delay = pauseMs(poll.firstMs, poll.maxMs, poll.factor, looks);
    const message = `${result.message}; next look in ${Math.round(delay / 1000)} s`;
    return { ...(await waitStep(rt, claim, { ...result, message }, { reason: WaitReason.CODEX_TASK_RUNNING }, delay)), wakeAfterMs: delay };
  }
  const { error } = outcome;
  if (error instanceof HandOver) return handOverStep(rt, claim);
  const e = error instanceof ProviderError ? error : null;
  const failure: Failure = {
    code: e?.code ?? FailureCode.INTERNAL,
    // A transaction the database rolled back for colliding with another is tried again, not the run's end.
    kind: e?.kind ?? (isTransactionConflict(error) ? FailureKind.TRANSIENT : FailureKind.PERMANENT),
    message: e?.message ?? redactSecrets(`Unexpected error in ${claim.step.toLowerCase()}: ${(error as Error)?.message ?? String(error)}`),
    secretRef: e?.secretRef,
    service: e?.service ?? serviceOf(credentialSet, e?.secretRef),
  };
  const facts = error instanceof StepFailure ? { artifacts: error.artifacts, outputs: error.outputs, payload: error.details } : {};
  if (failure.kind === FailureKind.TRANSIENT) {
    // Consecutive transient failures of this attempt (a poll that answers resets them). A rate limit with
    // a known end is a wait, counted apart with a larger allowance.
    const limited = failure.code === FailureCode.RATE_LIMITED && e?.retryAfterMs !== undefined;
    const counter = limited ? 'limited' : 'failures';
    const failures = Number(info.payload?.[counter] ?? 0) + 1;
    const allowed = limited ? policy.retries * 4 : policy.retries;
    if (failures <= allowed) {
      const delay = e?.retryAfterMs ?? pauseMs(policy.backoff.baseMs, policy.backoff.maxMs, 2, failures);
      const settled = await retryStep(rt, claim, { ...failure, failures, counter, triesLeft: allowed - failures }, delay, facts);
      return { ...settled, wakeAfterMs: delay };
    }
  }
  return failStep(rt, claim, failure, facts);
}

/**
 * One step job, start to end. The try's signal aborts on cancel, on the step's timeout, when pg-boss
 * finds the job's claim gone, and when our own heartbeat finds the attempt's claim gone.
 */
export async function runStepJob(
  svc: WorkerServices,
  definition: StepDefinition,
  job: Pick<Job<StepJob>, 'id' | 'data' | 'signal'>,
  onWake: (step: Step, delayMs: number) => void = () => {},
  /** Where this try registers how to hand it back when its process stops (see startWorking's stop). */
  handOvers: Set<AbortController> = new Set(),
): Promise<void> {
  const policy = definition.policy(svc.config);
  const claimed = await claimStep(svc.db, job, svc.workerId);
  if (!claimed) return;
  const { claim, run, info } = claimed;
  await announce(svc.db, run.id, claimed.version);
  const log = svc.log.child({ runId: run.id, step: claim.step, attempt: claim.attempt, try: info.tries });
  log.info('step started');

  const cancelled = new AbortController();
  const lost = new AbortController();
  const handOver = new AbortController();
  inFlight.set(run.id, cancelled);
  handOvers.add(handOver);
  const deadline = AbortSignal.timeout(policy.timeoutSeconds * 1000);
  const signal = AbortSignal.any([cancelled.signal, lost.signal, handOver.signal, job.signal, deadline]);
  // Our own heartbeat on the attempt row: it keeps heartbeat_at current for readers, and notices a claim
  // taken over (this worker was paused past its pg-boss heartbeat) so the step stops at once.
  const heartbeat = setInterval(() => {
    void touchAttempt(svc.db, run.id, claim.step, claim.attempt, claim.token).then(
      (held) => held || lost.abort(new ClaimLost(run.id, claim.step, claim.attempt)),
      () => {},
    );
  }, (HEARTBEAT_SECONDS * 1000) / 2);
  let outcome: { result: StepResult } | { error: unknown };
  let credentialSet: CredentialSet | null = null;
  let providers: Providers | null = null;
  try {
    credentialSet = await svc.ds.getRepository(CredentialSet).findOneByOrFail({ id: run.credentialSetId });
    providers = createProviders(svc.config, credentialSet, {
      githubLimits: (baseUrl, key) => sharedGitHubLimits(svc.db, baseUrl, key),
      appTokens: pgTokenCache(svc.db),
      repository: run.repository,
    });
    const result = await definition.run({
      run,
      attempt: info,
      policy,
      providers,
      artifacts: new ArtifactStore(svc.db, svc.config.artifactMaxBytes),
      signal,
      deadline,
      cancelled: async () => (await readRun(svc.db, run.id))?.status === RunStatus.CANCELLED,
      capacity: {
        takeCodexSlot: () => takeCodexSlot(svc, run),
        releaseCodexSlot: () => releaseCodexSlot(svc, run.id),
        pauseCodex: (until, reason) => pauseCodex(svc, run.credentialSetId, until, reason),
      },
      log,
      guard: async () => {
        if (!(await holdsClaim(svc.db, run.id, claim.step, claim.attempt, claim.token))) throw new ClaimLost(run.id, claim.step, claim.attempt);
      },
    });
    outcome = { result };
  } catch (error) {
    // A hand-over wins over whatever error the aborted call was turned into (a provider's own wrapping).
    outcome = { error: handOver.signal.aborted ? handOver.signal.reason : signal.aborted && !(error instanceof ProviderError) ? abortReason(signal, policy) : error };
  } finally {
    clearInterval(heartbeat);
    inFlight.delete(run.id);
    handOvers.delete(handOver);
  }
  const settled = await settle(svc, claim, policy, info, outcome, credentialSet);
  if (settled.version !== null) await announce(svc.db, run.id, settled.version);
  if (!settled.landed) {
    log.warn({ outcome: 'error' in outcome ? 'error' : outcome.result.kind }, 'stale result dropped: this worker no longer held the attempt');
    return;
  }
  if (settled.wakeAfterMs !== undefined) onWake(claim.step, settled.wakeAfterMs);
  // A run that ended gave its Codex slot back (if it held one): the next in line may go.
  if (settled.ended) await wakeCodexLine(svc, run.credentialSetId);
  if (settled.ended === RunStatus.CANCELLED && definition.undo && providers) {
    const payload = 'result' in outcome ? outcome.result.payload : outcome.error instanceof ProviderError ? outcome.error.details : undefined;
    await undoCancelled(svc, claim, definition, { policy, providers, log }, payload ?? {});
  }
  if ('error' in outcome) {
    const e = outcome.error as ProviderError;
    log.warn({ code: e.code ?? FailureCode.INTERNAL, kind: e.kind ?? 'PERMANENT', error: e.message }, 'step failed');
  } else {
    log.info({ outcome: outcome.result.kind, message: outcome.result.message }, 'step finished');
  }
}

/**
 * The run was cancelled while this try worked: the step takes back what it made outside, and an event
 * on the cancelled attempt says what was undone (or left, and why).
 */
async function undoCancelled(
  svc: WorkerServices,
  claim: Claim,
  definition: StepDefinition,
  ctx: { policy: StepPolicy; providers: Providers; log: Logger },
  payload: Record<string, unknown>,
): Promise<void> {
  const run = (await readRun(svc.db, claim.runId))!;
  let report: UndoReport | null;
  try {
    report = await definition.undo!({ ...ctx, signal: AbortSignal.timeout(60_000) }, { run, payload });
  } catch (error) {
    report = { message: `Undoing after the cancel failed: ${(error as Error).message}. Check what the run left outside by hand.`, undone: {} };
  }
  if (!report) return;
  const version = await recordUndo(svc, claim, report);
  await announce(svc.db, claim.runId, version);
  ctx.log.info({ undone: report.undone }, report.message);
}

/** Why an aborted try ended, as a failure the policy can act on. */
function abortReason(signal: AbortSignal, policy: StepPolicy): unknown {
  const reason: unknown = signal.reason;
  if (reason instanceof ClaimLost || reason instanceof HandOver || (reason as Error)?.name === 'ClaimLost') return reason;
  if ((reason as Error)?.name === 'TimeoutError') {
    return new ProviderError(FailureKind.TRANSIENT, FailureCode.SERVICE_UNAVAILABLE, `The step ran longer than its ${policy.timeoutSeconds} s limit and was stopped.`);
  }
  return reason ?? new Error('aborted');
}

/**
 * Everything a `work` process runs: the step workers, the lost-step worker, and the cancel listener.
 * `stop` is the graceful stop of a deploy: no new jobs are taken, running steps have `graceMs` to
 * finish, and those still running then are handed back to the queue (an event says so) so another
 * worker takes them at once, instead of after a missed heartbeat.
 */
export async function startWorking(svc: WorkerServices): Promise<{ stop: (graceMs?: number) => Promise<void> }> {
  const workerIds = new Map<Step, string[]>();
  const handOvers = new Set<AbortController>();
  const active = new Set<Promise<unknown>>();
  const tracked = async (work: Promise<unknown>) => {
    active.add(work);
    try {
      await work;
    } finally {
      active.delete(work);
    }
  };
  // A job re-queued with startAfter is durable in the table; NOTIFY fired when it was sent, before it was
  // due, so without this it would wait for the polling backstop. A local timer wakes this process's
  // workers when it is due; other processes still find it by polling.
  const wake = (step: Step, delayMs: number) => {
    setTimeout(() => {
      for (const id of workerIds.get(step) ?? []) svc.boss.notifyWorker(id);
    }, delayMs + 20).unref();
  };
  for (const step of STEP_ORDER) {
    const id = await svc.boss.work<StepJob>(
      QUEUE[step],
      // Several pollers per queue so one long step (a big apply, a slow push) does not hold the others back;
      // batches of two with burst drain a backlog without waiting out the polling interval.
      { batchSize: 2, burstWhenBatchFull: true, localConcurrency: svc.config.workerConcurrency, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 10 },
      (jobs) => tracked(Promise.all(jobs.map((job) => runStepJob(svc, STEPS[step], job, wake, handOvers)))),
    );
    workerIds.set(step, [...(workerIds.get(step) ?? []), id]);
  }
  await svc.boss.work<StepJob>(LOST_QUEUE, { batchSize: 5 }, (jobs) =>
    tracked(
      (async () => {
        for (const job of jobs) {
          const { runId, step, attempt } = job.data;
          const message = `The ${step} step lost its worker ${LOST_WORKER_RETRIES + 1} times (crash or missed heartbeats) and was given up.`;
          const settled = await failLostStep(svc, { runId, step, attempt }, { code: FailureCode.WORKER_LOST, kind: FailureKind.TRANSIENT, message });
          if (settled.version !== null) {
            await announce(svc.db, runId, settled.version);
            const failed = await readRun(svc.db, runId);
            if (failed) await wakeCodexLine(svc, failed.credentialSetId);
            svc.log.warn({ runId, step, attempt }, 'step given up after lost workers');
          }
        }
      })(),
    ),
  );
  const listener = new Listener(svc.databaseUrl, svc.log);
  listener.on(CANCEL_CHANNEL, (runId) => inFlight.get(runId)?.abort(new RunCancelled(runId)));
  await listener.start();
  return {
    stop: async (graceMs = svc.config.workerStopGraceSeconds * 1000) => {
      // Take no more jobs; what is fetched already runs or is handed over below.
      await Promise.all([...STEP_ORDER.map((s) => QUEUE[s]), LOST_QUEUE].map((queue) => svc.boss.offWork(queue, { wait: false })));
      if (active.size) {
        svc.log.info({ running: handOvers.size, graceSeconds: graceMs / 1000 }, 'stopping: letting running steps finish');
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([Promise.allSettled([...active]), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
        clearTimeout(timer);
      }
      if (handOvers.size) {
        svc.log.info({ running: handOvers.size }, 'stopping: handing the steps still running to another worker');
        for (const handOver of handOvers) handOver.abort(new HandOver(svc.workerId));
      }
      // A step ended by the hand-over settles (re-queued for another worker) before the queue stops.
      while (active.size) await Promise.allSettled([...active]);
      await listener.close();
    },
  };
}
