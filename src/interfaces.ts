// The vocabulary of spec-chain, written once: the database, the GraphQL schema, the code and the logs
// all use these names.
//
// Glossary
// - run: one startSpecPhase (or RESTART): a chain of the five steps on one phase of one feature of one
//   repository. Table spec_workflow_run; GraphQL SpecWorkflowRun.
// - step: one of DISCOVER, SUBMIT, APPLY, PUBLISH, FINALIZE; each is a pg-boss queue.
// - attempt: one execution of one step of a run (a RESUME makes a new attempt of the failed step).
//   Table step_attempt, unique per (run, step, attempt); GraphQL StepAttempt.
// - try: one pick-up of an attempt by a worker; an attempt is tried again after a transient failure or
//   a lost worker (step_attempt.tries).
// - claim: the token a worker holds for the try it is running; every write a step makes after its
//   outside work checks it, so a worker that lost its claim cannot change the run.
// - best-of-N: how many solutions Codex Cloud works out for one task (1 to 4); never called "attempts".
// - event: one transition, appended to run_event with the run's next version (1, 2, 3 … no gap).
// - artifact: a stored output of a step (patch, log, report) or an outside URL (branch, pull request).
// - credential set: references (env:NAME, file:/path) to the secrets a run uses, never the secrets.

/** The five steps of a run, in chain order. */
export enum Step {
  DISCOVER = 'DISCOVER',
  SUBMIT = 'SUBMIT',
  APPLY = 'APPLY',
  PUBLISH = 'PUBLISH',
  FINALIZE = 'FINALIZE',
}

export const STEP_ORDER: readonly Step[] = [Step.DISCOVER, Step.SUBMIT, Step.APPLY, Step.PUBLISH, Step.FINALIZE];

export enum RunStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  NO_WORK = 'NO_WORK',
  /** The next phase already has an open pull request: nothing was done; review (merge) it, or stack on it. */
  IN_REVIEW = 'IN_REVIEW',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

/** Statuses after which a run never changes again (except by a retry, which is a new attempt or run). */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = [
  RunStatus.SUCCEEDED,
  RunStatus.NO_WORK,
  RunStatus.IN_REVIEW,
  RunStatus.FAILED,
  RunStatus.CANCELLED,
];

/** The state of one attempt of one step (the spec's CeleryTaskState.state). */
export enum StepState {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  WAITING = 'WAITING',
  RETRYING = 'RETRYING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  SKIPPED = 'SKIPPED',
  CANCELLED = 'CANCELLED',
}

/** States an attempt never leaves. */
export const FINAL_STEP_STATES: readonly StepState[] = [StepState.SUCCEEDED, StepState.FAILED, StepState.SKIPPED, StepState.CANCELLED];

export enum ArtifactKind {
  CODEX_TASK = 'CODEX_TASK',
  CODEX_LOG = 'CODEX_LOG',
  PATCH = 'PATCH',
  CONFLICT_REPORT = 'CONFLICT_REPORT',
  APPLY_OUTPUT = 'APPLY_OUTPUT',
  BRANCH = 'BRANCH',
  PULL_REQUEST = 'PULL_REQUEST',
  RETRY_CONTEXT = 'RETRY_CONTEXT',
  PROMPT = 'PROMPT',
  SUMMARY = 'SUMMARY',
}

/** How a failure should be handled: retried in place, stopped for a secret, or stopped for good. */
export enum FailureKind {
  TRANSIENT = 'TRANSIENT',
  CREDENTIALS = 'CREDENTIALS',
  PERMANENT = 'PERMANENT',
}

/** Why a run or a step attempt waits (it always says, as data). */
export enum WaitReason {
  /** For a Codex slot of its credential set (maxConcurrentCodexTasks in use); `position` says how many are ahead. */
  CODEX_CAPACITY = 'CODEX_CAPACITY',
  /** Codex Cloud asked the credential set to slow down (429) or its usage window is spent. */
  CODEX_RATE_LIMITED = 'CODEX_RATE_LIMITED',
  /** GitHub's primary or secondary rate limit for the token. */
  GITHUB_RATE_LIMITED = 'GITHUB_RATE_LIMITED',
  /** The Codex task is still working; the next look is at `until`. */
  CODEX_TASK_RUNNING = 'CODEX_TASK_RUNNING',
  /** A transient failure; the next try is at `until`. */
  RETRY_BACKOFF = 'RETRY_BACKOFF',
  /** Queued for a worker; `position` says how many jobs of the step's queue go first. */
  WORKER_BUSY = 'WORKER_BUSY',
}

/** A wait as stored with the attempt and shown to clients. `key` names the line waited in (a credential set). */
export interface Wait {
  reason: WaitReason;
  key?: string | null;
  since: Date;
  until: Date | null;
  position: number | null;
  message: string;
}

/** The outside services a credential set holds secrets for; a credentials failure names which one. */
export enum Service {
  CODEX = 'CODEX',
  GITHUB = 'GITHUB',
}

/** Every failure the chain can report. Each has its remediation text in src/runs/remediation.ts. */
export enum FailureCode {
  SPEC_INVALID = 'SPEC_INVALID',
  /** tasks.md is beyond what the reader reads within its limits or its time and memory budget. */
  SPEC_TOO_COMPLEX = 'SPEC_TOO_COMPLEX',
  FEATURE_NOT_FOUND = 'FEATURE_NOT_FOUND',
  REPOSITORY_UNAVAILABLE = 'REPOSITORY_UNAVAILABLE',
  CREDENTIALS_MISSING = 'CREDENTIALS_MISSING',
  CREDENTIALS_INVALID = 'CREDENTIALS_INVALID',
  CREDENTIALS_EXPIRED = 'CREDENTIALS_EXPIRED',
  PERMISSION_DENIED = 'PERMISSION_DENIED',
  CODEX_ENVIRONMENT_NOT_FOUND = 'CODEX_ENVIRONMENT_NOT_FOUND',
  CODEX_ENVIRONMENT_AMBIGUOUS = 'CODEX_ENVIRONMENT_AMBIGUOUS',
  CODEX_REQUEST_REJECTED = 'CODEX_REQUEST_REJECTED',
  CODEX_TASK_FAILED = 'CODEX_TASK_FAILED',
  CODEX_TIMEOUT = 'CODEX_TIMEOUT',
  NO_DIFF = 'NO_DIFF',
  MERGE_CONFLICT = 'MERGE_CONFLICT',
  PATCH_FAILED = 'PATCH_FAILED',
  PATCH_UNSAFE = 'PATCH_UNSAFE',
  PUSH_REJECTED = 'PUSH_REJECTED',
  GITHUB_REJECTED = 'GITHUB_REJECTED',
  RATE_LIMITED = 'RATE_LIMITED',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  WORKER_LOST = 'WORKER_LOST',
  INTERNAL = 'INTERNAL',
  /** `phaseId` names no phase of tasks.md. */
  PHASE_NOT_FOUND = 'PHASE_NOT_FOUND',
  /** `phaseId` names a phase with no open task, and `confirmRedo` was not given. */
  PHASE_DONE = 'PHASE_DONE',
  /** A stacked run's lower phase branch moved and the change no longer applies on its new head. */
  BASE_MOVED = 'BASE_MOVED',
  /** An artifact (a patch, a report) is larger than ARTIFACT_MAX_BYTES. */
  ARTIFACT_TOO_LARGE = 'ARTIFACT_TOO_LARGE',
  /** The credential set's GitHub App is not installed on the repository (or not as the installation named). */
  GITHUB_APP_NOT_INSTALLED = 'GITHUB_APP_NOT_INSTALLED',
  /** `commitVia: API` and the change holds what createCommitOnBranch cannot express (modes, symlinks, submodules, size). */
  API_COMMIT_UNSUPPORTED = 'API_COMMIT_UNSUPPORTED',
}

/** How publish makes the phase commit: pushed with git, or created by GitHub (signed, Verified) with createCommitOnBranch. */
export enum CommitVia {
  GIT = 'GIT',
  API = 'API',
}

/** Failures a RESUME with an operator's notes answers: the task is submitted again with the notes. */
export const NOTES_ANSWER: readonly FailureCode[] = [FailureCode.NO_DIFF, FailureCode.CODEX_TASK_FAILED, FailureCode.MERGE_CONFLICT];

/** The failure codes that mean a secret must be fixed before anything can go on. */
export const CREDENTIAL_FAILURES: readonly FailureCode[] = [
  FailureCode.CREDENTIALS_MISSING,
  FailureCode.CREDENTIALS_INVALID,
  FailureCode.CREDENTIALS_EXPIRED,
  FailureCode.PERMISSION_DENIED,
  FailureCode.GITHUB_APP_NOT_INSTALLED,
];

/** Why a mutation changed nothing (the `userErrors` of every payload). */
export enum UserErrorCode {
  REQUIRED = 'REQUIRED',
  NOT_FOUND = 'NOT_FOUND',
  INVALID_REPOSITORY = 'INVALID_REPOSITORY',
  INVALID_FEATURE_ID = 'INVALID_FEATURE_ID',
  INVALID_BRANCH = 'INVALID_BRANCH',
  INVALID_BEST_OF_N = 'INVALID_BEST_OF_N',
  INVALID_IDEMPOTENCY_KEY = 'INVALID_IDEMPOTENCY_KEY',
  INVALID_NAME = 'INVALID_NAME',
  INVALID_SECRET_REF = 'INVALID_SECRET_REF',
  INVALID_LIMIT = 'INVALID_LIMIT',
  NAME_TAKEN = 'NAME_TAKEN',
  IN_USE = 'IN_USE',
  UNKNOWN_CREDENTIAL_SET = 'UNKNOWN_CREDENTIAL_SET',
  CREDENTIAL_SET_NOT_FOR_REPOSITORY = 'CREDENTIAL_SET_NOT_FOR_REPOSITORY',
  CODEX_ENVIRONMENT_REQUIRED = 'CODEX_ENVIRONMENT_REQUIRED',
  RUN_ACTIVE = 'RUN_ACTIVE',
  RUN_FINISHED = 'RUN_FINISHED',
  NOT_RESUMABLE = 'NOT_RESUMABLE',
  CONFIRMATION_REQUIRED = 'CONFIRMATION_REQUIRED',
  INVALID_PHASE_ID = 'INVALID_PHASE_ID',
  INVALID_NOTES = 'INVALID_NOTES',
  /** A string input longer than its limit (MAX_LENGTH): refused before anything is stored. */
  TOO_LONG = 'TOO_LONG',
  /** RESUME of a failure only notes can answer (NO_DIFF, CODEX_TASK_FAILED, MERGE_CONFLICT) came without notes. */
  NOTES_REQUIRED = 'NOTES_REQUIRED',
  /** Notes were given to a retry that sends nothing to Codex. */
  NOTES_NOT_APPLICABLE = 'NOTES_NOT_APPLICABLE',
  /** A retry refused because the secret that failed is still broken: the run's credential failure code. */
  CREDENTIALS_MISSING = 'CREDENTIALS_MISSING',
  CREDENTIALS_INVALID = 'CREDENTIALS_INVALID',
  CREDENTIALS_EXPIRED = 'CREDENTIALS_EXPIRED',
  PERMISSION_DENIED = 'PERMISSION_DENIED',
  GITHUB_APP_NOT_INSTALLED = 'GITHUB_APP_NOT_INSTALLED',
  /** A credential set needs exactly one GitHub credential: a token, or an App (id and private key). */
  GITHUB_CREDENTIAL_REQUIRED = 'GITHUB_CREDENTIAL_REQUIRED',
  INVALID_APP = 'INVALID_APP',
}

/** An input problem: nothing was created or changed. */
export interface UserErrorData {
  code: UserErrorCode;
  field: string | null;
  message: string;
}

/** The longest string each free-text input accepts (characters); inputs with a format have their own checks. */
export const MAX_LENGTH = {
  codexEnvironment: 200,
  idempotencyKey: 200,
  notes: 20_000,
  reason: 1_000,
  secretRef: 1_024,
  branch: 255,
  repositories: 100,
} as const;

/** A TOO_LONG userError for `field` when `value` is over `max` characters, else null. */
export function tooLong(field: string, value: string | null | undefined, max: number): UserErrorData | null {
  if (value == null || value.length <= max) return null;
  return { code: UserErrorCode.TOO_LONG, field, message: `${field} is ${value.length} characters long; at most ${max} are accepted.` };
}

/** A UUID as PostgreSQL stores it (any version), so an id that is not one is refused before a query. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

/** Takes a source's items as they come, in order, then its end (the subscription fan-out). */
export interface PushListener<T> {
  next(item: T): void;
  end(): void;
}

/** A source of subscription events that can hand them to one listener instead of being iterated (RunFeed's queues). */
export interface PushSource<T> {
  listen(listener: PushListener<T>): void;
}
