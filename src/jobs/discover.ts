import { ArtifactKind, FailureCode, Step } from '../interfaces.js';
import { buildPhasePrompt, discoverFeature, SpecErrorCode, type SpecError } from '../speckit/index.js';
import { standardPolicy, StepFailure, type StepContext, type StepDefinition, type StepResult } from './step.js';

const FEATURE_ERRORS: string[] = [SpecErrorCode.FEATURE_ID_INVALID, SpecErrorCode.FEATURE_UNKNOWN, SpecErrorCode.FEATURE_MISSING];
const where = (e: SpecError) => `${e.file}${e.line ? `:${e.line}` : ''}`;

/**
 * discover: fetch the base branch, read the feature's tasks.md straight from its commit (no checkout)
 * and find the next phase with open tasks.
 * A malformed or missing file fails the run at once with the file and line; no open phase ends it NO_WORK.
 */
async function discoverPhase({ run, providers, artifacts, signal }: StepContext): Promise<StepResult> {
  const auth = await providers.gitAuth();
  const baseSha = await providers.git.fetchBase({ repository: run.repository, baseBranch: run.baseBranch, auth, signal });
  const files = await providers.git.readTree({ repository: run.repository, sha: baseSha, auth, signal });
  const { feature, discovery } = await discoverFeature(files, run.featureId ?? undefined);
  if (discovery.status === 'INVALID') {
    const featureProblem = discovery.errors.every((e) => FEATURE_ERRORS.includes(e.code));
    throw new StepFailure(
      featureProblem ? FailureCode.FEATURE_NOT_FOUND : FailureCode.SPEC_INVALID,
      discovery.errors.map((e) => `${where(e)}: ${e.message}`).join('\n'),
      [],
      { details: { errors: discovery.errors, baseSha } },
    );
  }
  const outputs = { featureId: feature!.id, tasksPath: feature!.relativeTasksPath, baseSha };
  if (discovery.status === 'NO_WORK') {
    const c = discovery.counts;
    return {
      kind: 'no-work',
      message: `no remaining phases in ${feature!.relativeTasksPath}: ${c.phases} phases, ${c.done} tasks done, ${c.dropped} dropped, none open`,
      outputs,
      payload: { counts: c, baseSha },
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
    payload: { phase: { id: phase.id, title: phase.title, line: phase.line }, openTaskIds, counts, baseSha },
  };
}

export const discover: StepDefinition = {
  step: Step.DISCOVER,
  // Reading a repository's files is quick; ten minutes covers a first fetch of a large history.
  policy: (config) => standardPolicy(config, 10 * 60),
  run: discoverPhase,
};
