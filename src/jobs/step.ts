import type { Config } from '../config.js';
import type { FailureCode, Step, Wait, WaitReason } from '../interfaces.js';
import { FailureKind } from '../interfaces.js';
import type { Logger } from '../log.js';
import { ProviderError } from '../providers/errors.js';
import type { Providers } from '../providers/index.js';
import type { ArtifactStore } from '../runs/artifacts.js';
import type { ArtifactInput } from '../runs/db/artifacts.js';
import type { Run, RunFields } from '../runs/db/runs.js';

// What a step is to the runtime: its own work, and the policy the runtime applies around it.

/** How the runtime treats a step: read by the runner alone, so a step body never loops or sleeps. */
export interface StepPolicy {
  /** Transient failures (network, 5xx, rate limits) tried again in the same attempt before the run fails. */
  retries: number;
  /** Pause before try n + 1: base × 2^(n − 1), capped, ±20 % jitter; a service's retry-after wins. */
  backoff: { baseMs: number; maxMs: number };
  /** The runner ends a try that runs longer than this (pg-boss's expiry sits just above it). */
  timeoutSeconds: number;
  /**
   * A step that waits on something outside (APPLY on a Codex task): the pause before look n
   * (first × factor^(n − 1), capped) and how long the attempt may wait in all before it fails with `code`.
   */
  poll?: { firstMs: number; maxMs: number; factor: number; deadlineMs: number; code: FailureCode };
  /** What `undo` takes back of what the step made when its run is cancelled (PUBLISH: the pull request, the branch). */
  undoOnCancel?: { closePullRequest: boolean; deleteBranch: boolean };
}

/** The attempt a step runs in, as claimed: `payload` holds what an earlier try or poll reported. */
export interface AttemptInfo {
  number: number;
  /** This try's number within the attempt (1 for the first pick-up). */
  tries: number;
  startedAt: Date;
  payload: Record<string, unknown> | null;
  /** The operator's notes this attempt carries to Codex (SUBMIT), if any. */
  notes: string | null;
}

/** What a step's own work receives, and nothing more. */
export interface StepContext {
  run: Run;
  attempt: AttemptInfo;
  policy: StepPolicy;
  providers: Providers;
  artifacts: ArtifactStore;
  /** Aborted when the run is cancelled, the claim is lost or the try times out: pass it to every outside call. */
  signal: AbortSignal;
  /**
   * Aborted only when the try times out: for a call that creates something outside (a task, a push, a
   * pull request), which is better finished than cut off halfway; check `cancelled()` after it.
   */
  deadline: AbortSignal;
  /** Whether the run has been cancelled (asked of the database, so a cancel that has not reached this worker yet counts). */
  cancelled(): Promise<boolean>;
  /** Limits shared with every process using the run's credential set (src/jobs/capacity.ts). */
  capacity: {
    /** Takes a Codex slot for the run (when: null if it held one already), or says why it must wait for one. */
    takeCodexSlot(): Promise<{ wait: Wait } | { takenAt: Date | null }>;
    /** The run's Codex task finished: its slot goes back and the first run in line is woken. */
    releaseCodexSlot(): Promise<void>;
    /** Codex asked the credential set to stop until `until`: every new submit of the set waits. */
    pauseCodex(until: Date, reason: string): Promise<void>;
  };
  log: Logger;
  /**
   * Throws when this worker no longer holds the attempt (another took it over): call it right before
   * creating anything outside (a Codex task, a push, a pull request), so a late worker creates nothing.
   */
  guard(): Promise<void>;
}

export type StepResult =
  /** The step is finished: write its outputs and artifacts and queue the next step (carrying `next.notes`). */
  | {
      kind: 'done';
      message: string;
      outputs?: RunFields;
      artifacts?: ArtifactInput[];
      payload?: Record<string, unknown>;
      next?: { notes?: string | null };
    }
  /**
   * Not yet: run again later, durably. By default the step waits on a Codex task (CODEX_TASK_RUNNING) and
   * looks again after the policy's poll pause; `waitingFor` names another reason, and `until` when it ends.
   */
  | {
      kind: 'wait';
      message: string;
      artifacts?: ArtifactInput[];
      payload?: Record<string, unknown>;
      waitingFor?: { reason: WaitReason; key?: string | null; until?: Date | null; message?: string };
    }
  /** Nothing to do: the run ends NO_WORK and the later steps are skipped. */
  | { kind: 'no-work'; message: string; outputs?: RunFields; artifacts?: ArtifactInput[]; payload?: Record<string, unknown> }
  /** The next phase already has an open pull request: the run ends IN_REVIEW and the later steps are skipped. */
  | { kind: 'in-review'; message: string; outputs?: RunFields; artifacts?: ArtifactInput[]; payload?: Record<string, unknown> };

export type StepWork = (ctx: StepContext) => Promise<StepResult>;

/** What a cancelled try left outside, as the runtime recorded it: the run's outputs and the try's payload. */
export interface CancelledFacts {
  run: Run;
  payload: Record<string, unknown>;
}

/** What undoing a cancelled try did (or could not do), said in the run's events. */
export interface UndoReport {
  message: string;
  undone: Record<string, string>;
}

/** A step: its work and its policy, side by side in its own file. */
export interface StepDefinition {
  step: Step;
  policy: (config: Config) => StepPolicy;
  run: StepWork;
  /**
   * Run by the runtime after the run was found cancelled while this step worked: takes back what the
   * step made outside (or says what it cannot), so a cancelled run leaves nothing open by accident.
   */
  undo?: (ctx: Pick<StepContext, 'policy' | 'providers' | 'signal' | 'log'>, facts: CancelledFacts) => Promise<UndoReport | null>;
}

/** The policy most steps share: the configured retries, backoff from 1 s to 5 min. */
export function standardPolicy(config: Config, timeoutSeconds: number): StepPolicy {
  return { retries: config.stepRetryLimit, backoff: { baseMs: 1000, maxMs: 5 * 60_000 }, timeoutSeconds };
}

/**
 * A failure found by a step itself, with the artifacts the operator needs to act on it, and the outputs
 * that exist outside whatever happens next (a branch already pushed, a pull request already open).
 */
export class StepFailure extends ProviderError {
  readonly outputs: RunFields;

  constructor(
    code: FailureCode,
    message: string,
    readonly artifacts: ArtifactInput[] = [],
    options: { details?: Record<string, unknown>; kind?: FailureKind; secretRef?: string; outputs?: RunFields; cause?: unknown } = {},
  ) {
    super(options.kind ?? FailureKind.PERMANENT, code, message, options);
    this.name = 'StepFailure';
    this.outputs = options.outputs ?? {};
  }
}

/** The reason a try's signal carries when its run was cancelled. */
export class RunCancelled extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} was cancelled`);
    this.name = 'RunCancelled';
  }
}

/** Thrown by `guard()`: this worker's claim is gone, so whatever it has not done yet must not be done. */
/** This worker process is stopping (a deploy): the try is handed back to the queue for another worker. */
export class HandOver extends Error {
  constructor(readonly worker: string) {
    super(`worker ${worker} is stopping`);
    this.name = 'HandOver';
  }
}

export class ClaimLost extends Error {
  constructor(readonly runId: string, readonly step: Step, readonly attempt: number) {
    super(`the ${step} attempt ${attempt} of run ${runId} is no longer held by this worker`);
    this.name = 'ClaimLost';
  }
}
