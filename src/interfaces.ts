// The vocabulary of spec-chain, written once: the database, the GraphQL schema, the code and the logs
// all use these names.

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
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

/** Statuses after which a run never changes again (except by a retry, which is a new attempt or run). */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = [
  RunStatus.SUCCEEDED,
  RunStatus.NO_WORK,
  RunStatus.FAILED,
  RunStatus.CANCELLED,
];

/** The spec's CeleryTaskState.state. */
export enum StepState {
  PENDING = 'PENDING',
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  WAITING = 'WAITING',
  RETRYING = 'RETRYING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  SKIPPED = 'SKIPPED',
  CANCELLED = 'CANCELLED',
}

export enum ArtifactKind {
  CODEX_TASK = 'CODEX_TASK',
  CODEX_LOG = 'CODEX_LOG',
  PATCH = 'PATCH',
  CONFLICT_REPORT = 'CONFLICT_REPORT',
  APPLY_OUTPUT = 'APPLY_OUTPUT',
  BRANCH = 'BRANCH',
  COMMIT = 'COMMIT',
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

/** Every failure the chain can report. Each has its remediation text in src/runs/remediation.ts. */
export enum FailureCode {
  SPEC_INVALID = 'SPEC_INVALID',
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
}
