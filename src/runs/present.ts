import { NOTES_ANSWER } from '../interfaces.js';
import { RetryMode } from '../schema/enums.js';
import type { Artifact, RunEventType, RunFailure, SpecWorkflowRunType, StepAttemptType } from '../schema/run.js';
import type { StepAttempt } from './db/attempts.js';
import type { WorkflowArtifact } from './db/artifacts.js';
import type { RunEvent } from './db/events.js';
import type { Run } from './db/runs.js';
import { remediationFor } from './remediation.js';

const link = (pr: { number: number; url: string }) => ({ number: pr.number, url: pr.url });

/** How a run reads to API clients. Outside URLs stay as they are; stored files get a download route. */
export function presentRun(run: Run): SpecWorkflowRunType {
  return {
    id: run.id,
    status: run.status,
    statusMessage: run.statusMessage,
    currentStep: run.currentStep,
    featureId: run.featureId,
    repository: run.repository,
    baseBranch: run.baseBranch,
    rootBranch: run.rootBranch,
    stack: run.stack,
    stackedOn: run.stackedOn && {
      ...run.stackedOn,
      pullRequest: link(run.stackedOn.pullRequest),
      below: (run.stackedOn.below ?? []).map((b) => ({ phaseId: b.phaseId, pullRequest: link(b.pullRequest) })),
    },
    revises: run.revision && link(run.revision.pullRequest),
    phaseRequest: run.phaseRequest,
    notes: run.notes,
    tasksPath: run.tasksPath,
    version: run.version,
    sandbox: run.sandbox,
    codexEnvironment: run.codexEnvironment,
    codexBestOfN: run.codexBestOfN,
    credentialSetId: run.credentialSetId,
    phase: run.phase,
    outputs: {
      codexTaskId: run.codexTaskId,
      codexTaskUrl: run.codexTaskUrl,
      branch: run.branch,
      commitSha: run.commitSha,
      pullRequestNumber: run.pullRequestNumber,
      pullRequestUrl: run.pullRequestUrl,
    },
    failure: presentFailure(run),
    retryOf: run.retryOf,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    finishedAt: run.finishedAt,
  };
}

export function presentFailure(run: Run): RunFailure | null {
  if (!run.failureCode) return null;
  const resumable = run.failureResumable ?? remediationFor(run.failureCode).resumable;
  const notesRequired = NOTES_ANSWER.includes(run.failureCode);
  return {
    code: run.failureCode,
    step: run.failureStep,
    message: run.failureMessage ?? '',
    remediation: run.failureRemediation ?? remediationFor(run.failureCode).remediation,
    retryModes: resumable ? [RetryMode.RESUME, RetryMode.RESTART] : [RetryMode.RESTART],
    notesRequired,
    retryAdvice: notesRequired
      ? `RESUME with notes submits the phase to Codex again as a new task of this run, with its last message and your notes (what it should know or do); RESTART starts a new run from discovery and needs confirmRestart.`
      : resumable
      ? `RESUME re-runs the ${run.failureStep ?? 'failed'} step with the stored outputs (no new Codex task when one exists); RESTART starts a new run from discovery and needs confirmRestart.`
      : `RESUME is not offered: repeating the ${run.failureStep ?? 'failed'} step with the same inputs would fail the same way. RESTART starts a new run from discovery and needs confirmRestart.`,
  };
}

export function presentAttempt(s: StepAttempt): StepAttemptType {
  return {
    step: s.step,
    state: s.state,
    attempt: s.attempt,
    tries: s.tries,
    queuedAt: s.queuedAt,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    heartbeatAt: s.heartbeatAt,
    nextAttemptAt: s.nextAttemptAt,
    message: s.message,
    payload: s.payload,
    errorCode: s.error?.code ?? null,
    notes: s.notes,
    source: s,
  };
}

/** Stored files are served by /artifacts/<run>/<id> (token checked); outside URLs are returned as they are. */
export function presentArtifact(a: WorkflowArtifact): Artifact {
  const outside = /^https?:\/\//.test(a.location);
  return {
    id: a.id,
    kind: a.kind,
    step: a.step,
    attempt: a.attempt,
    url: outside ? a.location : `/artifacts/${a.runId}/${a.id}`,
    sha256: a.sha256,
    size: a.size === null ? null : Number(a.size),
    contentType: a.contentType,
    createdAt: a.createdAt,
  };
}

export function presentEvent(e: RunEvent): RunEventType {
  return {
    version: e.version,
    step: e.step,
    attempt: e.attempt,
    from: e.fromState,
    to: e.toState,
    at: e.at,
    payload: e.payload,
  };
}
