import type { Revision, StackedOn } from '../entities/SpecWorkflowRun.js';
import { ArtifactKind, FailureCode, Step } from '../interfaces.js';
import type { GitAuth } from '../providers/git/index.js';
import { branchName } from '../providers/git/index.js';
import type { PhaseBranch } from '../providers/github/index.js';
import { buildPhasePrompt, discoverFeature, phaseById, readTasks, SpecErrorCode, type Discovery, type Feature, type PhaseReport, type SpecError } from '../speckit/index.js';
import { standardPolicy, StepFailure, type StepContext, type StepDefinition, type StepResult } from './step.js';

const FEATURE_ERRORS: string[] = [SpecErrorCode.FEATURE_ID_INVALID, SpecErrorCode.FEATURE_UNKNOWN, SpecErrorCode.FEATURE_MISSING];
const where = (e: SpecError) => `${e.file}${e.line ? `:${e.line}` : ''}`;
const phaseName = (p: { id: string; title: string }) => `Phase ${p.id}${p.title ? ` "${p.title}"` : ''}`;

type Read = { feature: Feature; discovery: Extract<Discovery, { phases: PhaseReport[] }>; sha: string };

/** tasks.md of the feature as the commit `sha` has it; a malformed or missing file fails the run with the file and line. */
async function readFeature({ run, providers, signal }: StepContext, sha: string, auth: GitAuth): Promise<Read> {
  const files = await providers.git.readTree({ repository: run.repository, sha, auth, signal });
  // Read in a worker thread with a time and memory budget: a hostile tasks.md fails the run, not the worker process.
  const { feature, discovery } = await discoverFeature(files, run.featureId ?? undefined, readTasks);
  if (discovery.status === 'INVALID') {
    const featureProblem = discovery.errors.every((e) => FEATURE_ERRORS.includes(e.code));
    const tooComplex = discovery.errors.some((e) => e.code === SpecErrorCode.SPEC_TOO_COMPLEX);
    throw new StepFailure(
      featureProblem ? FailureCode.FEATURE_NOT_FOUND : tooComplex ? FailureCode.SPEC_TOO_COMPLEX : FailureCode.SPEC_INVALID,
      discovery.errors.map((e) => `${where(e)}: ${e.message}`).join('\n'),
      [],
      { details: { errors: discovery.errors, baseSha: sha } },
    );
  }
  return { feature: feature!, discovery, sha };
}

/**
 * discover: read the feature's tasks.md straight from the base branch's commit (no checkout), learn from
 * GitHub which of its phase branches have an open pull request, and decide what this run works on:
 * - the next open phase, or the phase asked for (`phaseId`; a done one only with `confirmRedo`);
 * - with `stack`, the phase after the newest one in review, on top of that phase's branch;
 * - a phase already in review ends the run IN_REVIEW (nothing is submitted or pushed), unless the
 *   operator asked for it by id or sent notes: then its pull request is revised with a new commit.
 * A malformed or missing file fails at once with the file and line; no open phase ends the run NO_WORK.
 */
async function discoverPhase(ctx: StepContext): Promise<StepResult> {
  const { run, providers, artifacts, signal } = ctx;
  const auth = await providers.gitAuth();
  const rootSha = await providers.git.fetchBase({ repository: run.repository, baseBranch: run.rootBranch, auth, signal });
  let read = await readFeature(ctx, rootSha, auth);
  const featureId = read.feature.id;
  // Open pull requests are asked of GitHub, not of our own runs: people merge and close by hand.
  const branches = await providers.github.phaseBranches(
    { repository: run.repository, branches: read.discovery.phases.map((p) => branchName(featureId, p.id)) },
    signal,
  );
  const inReview = new Map<string, PhaseBranch>(branches.filter((b) => b.pullRequest).map((b) => [b.branch, b]));
  const reviewOf = (phase: { id: string }) => inReview.get(branchName(featureId, phase.id)) ?? null;

  let baseBranch = run.rootBranch;
  let stackedOn: StackedOn | null = null;
  if (run.stack) {
    const reviewed = read.discovery.phases.filter((p) => reviewOf(p));
    const lower = reviewed.at(-1);
    if (lower) {
      const branch = reviewOf(lower)!;
      const headSha = await providers.git.fetchBase({ repository: run.repository, baseBranch: branch.branch, auth, signal });
      // On its phase branch, Codex has marked that phase [X]: the next open phase there is the one after it.
      read = await readFeature(ctx, headSha, auth);
      baseBranch = branch.branch;
      const below = reviewed.slice(0, -1).map((p) => ({ phaseId: p.id, pullRequest: reviewOf(p)!.pullRequest! }));
      stackedOn = { phaseId: lower.id, branch: branch.branch, headSha, pullRequest: branch.pullRequest!, below };
    }
  }
  const { feature, discovery, sha: baseSha } = read;
  const outputs = { featureId: feature.id, tasksPath: feature.relativeTasksPath, baseSha, baseBranch, stackedOn };

  let phase: PhaseReport;
  let redo = false;
  if (run.phaseRequest !== null) {
    const asked = phaseById(discovery, run.phaseRequest);
    if (!asked) {
      throw new StepFailure(FailureCode.PHASE_NOT_FOUND, `${feature.relativeTasksPath} has no Phase ${run.phaseRequest}; it has ${discovery.phases.map((p) => p.id).join(', ') || 'none'}.`);
    }
    if (!asked.openTasks.length) {
      if (!run.confirmRedo) {
        throw new StepFailure(FailureCode.PHASE_DONE, `${phaseName(asked)} of ${feature.relativeTasksPath} has no open task; pass confirmRedo: true to have it done again.`);
      }
      redo = true;
    }
    phase = asked;
  } else if (discovery.status === 'NO_WORK') {
    const c = discovery.counts;
    return {
      kind: 'no-work',
      message: `no remaining phases in ${feature.relativeTasksPath}: ${c.phases} phases, ${c.done} tasks done, ${c.dropped} dropped, none open`,
      outputs,
      payload: { counts: c, baseSha, ...(stackedOn ? { stackedOn } : {}) },
    };
  } else phase = discovery.phase;

  const review = reviewOf(phase);
  let revision: Revision | null = null;
  const snapshot = phaseSnapshot(phase, feature, redo);
  if (review) {
    const pr = review.pullRequest!;
    if (run.phaseRequest === null && run.notes === null) {
      // A stacked pull request whose lower phase was merged still points at that phase's branch.
      const stale = pr.baseRefName !== run.rootBranch && !inReview.has(pr.baseRefName) ? ` It is based on ${pr.baseRefName}, which is no longer in review: change its base to ${run.rootBranch} before merging it.` : '';
      return {
        kind: 'in-review',
        message:
          `${phaseName(phase)} is in review: pull request #${pr.number} (${pr.url}) is open. Merge it to go on to the next phase, ` +
          `start with stack: true to work on the next phase on top of it, or start with phaseId and notes to revise it.${stale}`,
        outputs: { ...outputs, phase: snapshot, branch: review.branch, pullRequestNumber: pr.number, pullRequestUrl: pr.url },
        payload: { phase: { id: phase.id, title: phase.title, line: phase.line }, pullRequest: pr, branch: review.branch },
      };
    }
    // A revision: the new commit goes on top of what the reviewer has seen, never in its place.
    revision = { pullRequest: { id: pr.id, number: pr.number, url: pr.url }, headSha: review.headSha, fromSha: baseSha };
  }
  const openTaskIds = snapshot.openTaskIds;
  return {
    kind: 'done',
    message:
      `${revision ? `revise pull request #${revision.pullRequest.number} of ` : redo ? 'redo ' : 'next: '}${phaseName(phase)} ` +
      `(${openTaskIds.length} ${redo ? '' : 'open '}tasks) at ${feature.relativeTasksPath}:${phase.line}${stackedOn ? `, on top of ${stackedOn.branch}` : ''}`,
    outputs: { ...outputs, phase: snapshot, revision },
    artifacts: [artifacts.write(run.id, 'prompt.md', ArtifactKind.PROMPT, snapshot.prompt, 'text/markdown; charset=utf-8')],
    payload: {
      phase: { id: phase.id, title: phase.title, line: phase.line },
      openTaskIds,
      counts: discovery.counts,
      baseSha,
      ...(redo ? { redo } : {}),
      ...(stackedOn ? { stackedOn } : {}),
      ...(revision ? { revision } : {}),
    },
    next: { notes: run.notes },
  };
}

function phaseSnapshot(phase: PhaseReport, feature: Feature, redo: boolean) {
  const tasks = redo ? [...phase.openTasks, ...phase.doneTasks] : phase.openTasks;
  return {
    id: phase.id,
    title: phase.title,
    line: phase.line,
    parent: phase.parent,
    openTaskIds: tasks.map((t) => t.id ?? `line ${t.line}`),
    openTaskCount: phase.openTasks.length,
    doneTaskCount: phase.doneTasks.length,
    prompt: buildPhasePrompt({ phase, featureDir: feature.relativeDir, hasPlan: feature.hasPlan, hasSpec: feature.hasSpec, redo }),
  };
}

export const discover: StepDefinition = {
  step: Step.DISCOVER,
  // Reading a repository's files is quick; ten minutes covers a first fetch of a large history.
  policy: (config) => standardPolicy(config, 10 * 60),
  run: discoverPhase,
};
