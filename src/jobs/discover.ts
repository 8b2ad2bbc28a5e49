import { ArtifactKind, FailureCode, Step } from '../interfaces.js';
import { buildPhasePrompt, discoverFeature, SpecErrorCode, type SpecError } from '../speckit/index.js';
import { standardPolicy, StepFailure, type StepContext, type StepDefinition, type StepResult } from './step.js';

const FEATURE_ERRORS: string[] = [SpecErrorCode.FEATURE_ID_INVALID, SpecErrorCode.FEATURE_UNKNOWN, SpecErrorCode.FEATURE_MISSING];
const where = (e: SpecError) => `${e.file}${e.line ? `:${e.line}` : ''}`;

/**
 * discover: check out the base branch, find the feature's tasks.md and the next phase with open tasks.
 * A malformed or missing file fails the run at once with the file and line; no open phase ends it NO_WORK.
 */
async function discoverPhase({ run, providers, artifacts, signal }: StepContext): Promise<StepResult> {
  const worktree = await providers.git.prepareWorktree({
    repository: run.repository,
    baseBranch: run.baseBranch,
    dir: providers.worktreeDir(run.id),
    auth: await providers.gitAuth(),
    signal,
  });
  const { feature, discovery } = await discoverFeature(worktree.path, run.featureId ?? undefined);
  if (discovery.status === 'INVALID') {
    const featureProblem = discovery.errors.every((e) => FEATURE_ERRORS.includes(e.code));
    throw new StepFailure(
      featureProblem ? FailureCode.FEATURE_NOT_FOUND : FailureCode.SPEC_INVALID,
      discovery.errors.map((e) => `${where(e)}: ${e.message}`).join('\n'),
      [],
      { details: { errors: discovery.errors, baseSha: worktree.baseSha } },
    );
  }
  const outputs = { featureId: feature!.id, tasksPath: feature!.relativeTasksPath, baseSha: worktree.baseSha };
  if (discovery.status === 'NO_WORK') {
    const c = discovery.counts;
    return {
      kind: 'no-work',
      message: `no remaining phases in ${feature!.relativeTasksPath}: ${c.phases} phases, ${c.done} tasks done, ${c.dropped} dropped, none open`,
      outputs,
      payload: { counts: c, baseSha: worktree.baseSha },
    };
  }
  const { phase, counts } = discovery;
  const prompt = buildPhasePrompt({ phase, featureDir: feature!.relativeDir, hasPlan: feature!.hasPlan, hasSpec: feature!.hasSpec });
  const openTaskIds = phase.openTasks.map((t) => t.id ?? `line ${t.line}`);
  return {
    kind: 'done',
    message: `next: Phase ${phase.id} "${phase.title}" (${phase.openTasks.length} open tasks) at ${feature!.relativeTasksPath}:${phase.line}`,
    outputs: {
      ...outputs,
      phase: {
        id: phase.id,
        title: phase.title,
        line: phase.line,
        parent: phase.parent,
        openTaskIds,
        openTaskCount: phase.openTasks.length,
        doneTaskCount: phase.doneTasks.length,
        prompt,
      },
    },
    artifacts: [await artifacts.write(run.id, 'prompt.md', ArtifactKind.PROMPT, prompt, 'text/markdown; charset=utf-8')],
    payload: { phase: { id: phase.id, title: phase.title, line: phase.line }, openTaskIds, counts, baseSha: worktree.baseSha },
  };
}

export const discover: StepDefinition = {
  step: Step.DISCOVER,
  // Reading a repository's files is quick; ten minutes covers a first fetch of a large history.
  policy: (config) => standardPolicy(config, 10 * 60),
  run: discoverPhase,
};
