/** The GraphQL documents the run pages send, and the shapes they read back (see schema.graphql). */

export const STEPS = ['DISCOVER', 'SUBMIT', 'APPLY', 'PUBLISH', 'FINALIZE'] as const;
export type Step = (typeof STEPS)[number];
export const ACTIVE_STATUSES = ['QUEUED', 'RUNNING'];

export interface RunStep {
  step: Step;
  state: string;
  attempt: number;
  tries: number;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  nextAttemptAt: string | null;
  message: string | null;
  errorCode: string | null;
  /** The operator's notes this attempt took to Codex. */
  notes: string | null;
}

export interface RunEvent {
  version: number;
  step: Step | null;
  attempt: number | null;
  from: string | null;
  to: string;
  at: string;
  payload: Record<string, unknown>;
}

export interface Artifact {
  id: string;
  kind: string;
  step: Step;
  attempt: number;
  url: string;
  sha256: string | null;
  size: number | null;
  createdAt: string;
}

export interface RunFailure {
  code: string;
  step: Step | null;
  message: string;
  remediation: string;
  retryModes: ('RESUME' | 'RESTART')[];
  retryAdvice: string;
  notesRequired: boolean;
}

export interface PullRequestLink {
  number: number;
  url: string;
}

/** Why a run waits, as the API says it (`position` read live when asked). */
export interface Wait {
  reason: string;
  position: number | null;
  since: string;
  until: string | null;
  message: string;
}

export interface RunSummary {
  id: string;
  status: string;
  waitingFor: Wait | null;
  statusMessage: string | null;
  currentStep: Step | null;
  featureId: string | null;
  repository: string;
  baseBranch: string;
  sandbox: boolean;
  version: number;
  phase: { id: string; title: string; openTaskCount: number; doneTaskCount: number } | null;
  outputs: {
    codexTaskId: string | null;
    codexTaskUrl: string | null;
    branch: string | null;
    commitSha: string | null;
    pullRequestNumber: number | null;
    pullRequestUrl: string | null;
  };
  retryOf: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface RunDetail extends RunSummary {
  rootBranch: string;
  stack: boolean;
  phaseRequest: string | null;
  notes: string | null;
  credentialSetId: string;
  stackedOn: { phaseId: string; branch: string; pullRequest: PullRequestLink; below: { phaseId: string; pullRequest: PullRequestLink }[] } | null;
  revises: PullRequestLink | null;
  codexEnvironment: string | null;
  codexBestOfN: number;
  tasksPath: string | null;
  failure: RunFailure | null;
  steps: RunStep[];
  artifacts: Artifact[];
}

export interface UserError {
  code: string;
  field: string | null;
  message: string;
}

export interface CredentialSet {
  id: string;
  name: string;
  codexEnvironment: string | null;
  repositories: string[];
  sandbox: boolean;
  validationIssues: { ref: string; message: string }[];
}

const WAIT = 'reason position since until message';

const SUMMARY = `id status statusMessage currentStep featureId repository baseBranch sandbox version retryOf createdAt updatedAt finishedAt
  waitingFor { ${WAIT} }
  phase { id title openTaskCount doneTaskCount }
  outputs { codexTaskId codexTaskUrl branch commitSha pullRequestNumber pullRequestUrl }`;

const PR = 'number url';

const DETAIL = `${SUMMARY} codexEnvironment codexBestOfN tasksPath rootBranch stack phaseRequest notes credentialSetId
  stackedOn { phaseId branch pullRequest { ${PR} } below { phaseId pullRequest { ${PR} } } }
  revises { ${PR} }
  failure { code step message remediation retryModes retryAdvice notesRequired }
  steps { step state attempt tries queuedAt startedAt finishedAt nextAttemptAt message errorCode notes }
  artifacts { id kind step attempt url sha256 size createdAt }`;

const EVENT = 'version step attempt from to at payload';

export const RUNS_QUERY = `query RunsPage($first: Int!, $after: String) {
  runs(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${SUMMARY} } } }
}`;

export const RUNS_UPDATED = `subscription RunsPageUpdates { runsUpdated { ${SUMMARY} } }`;

export const CREDENTIAL_SETS_QUERY = `query StartFormCredentialSets {
  credentialSets { id name codexEnvironment repositories sandbox validationIssues { ref message } }
}`;

export const START_MUTATION = `mutation StartFromRunsPage($input: StartSpecPhaseInput!) {
  startSpecPhase(input: $input) { run { id } userErrors { code field message } }
}`;

export const RUN_QUERY = `query RunPage($id: ID!) { run(id: $id) { ${DETAIL} events { ${EVENT} } } }`;

export const RUN_UPDATED = `subscription RunPageUpdates($runId: ID!, $afterVersion: Int) {
  runUpdated(runId: $runId, afterVersion: $afterVersion) { version event { ${EVENT} } run { ${DETAIL} } }
}`;

/** A waiting run's place in line moves without an event of its own: the page reads it again while it waits. */
export const RUN_WAIT_QUERY = `query RunWait($id: ID!) { run(id: $id) { id status waitingFor { ${WAIT} } } }`;

export const RETRY_MUTATION = `mutation RetryFromRunPage($input: RetryRunInput!) {
  retryRun(input: $input) { run { id } userErrors { code field message } }
}`;

export const CANCEL_MUTATION = `mutation CancelFromRunPage($input: CancelRunInput!) {
  cancelRun(input: $input) { run { id status } userErrors { code field message } }
}`;

/** The subscription an operator can open in GraphiQL to watch the same run by hand. */
export const GRAPHIQL_WATCH = `subscription WatchRun($runId: ID!, $afterVersion: Int) {
  runUpdated(runId: $runId, afterVersion: $afterVersion) {
    version
    event { step attempt from to at payload }
    run { status currentStep steps { step state attempt message } failure { code message remediation } }
  }
}`;
