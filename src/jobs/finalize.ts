import { ArtifactKind, Step } from '../interfaces.js';
import { standardPolicy, type StepContext, type StepDefinition, type StepResult } from './step.js';

/** finalize: the run's summary artifact; the runner then marks the run SUCCEEDED. */
async function finalizeRun({ run, artifacts }: StepContext): Promise<StepResult> {
  const summary = {
    runId: run.id,
    repository: run.repository,
    featureId: run.featureId,
    phase: run.phase && { id: run.phase.id, title: run.phase.title, openTaskIds: run.phase.openTaskIds },
    codexTaskId: run.codexTaskId,
    codexTaskUrl: run.codexTaskUrl,
    branch: run.branch,
    commitSha: run.commitSha,
    pullRequestNumber: run.pullRequestNumber,
    pullRequestUrl: run.pullRequestUrl,
    sandbox: run.sandbox,
  };
  const artifact = artifacts.write(run.id, 'summary.json', ArtifactKind.SUMMARY, JSON.stringify(summary, null, 2) + '\n', 'application/json');
  return {
    kind: 'done',
    message: `phase ${run.phase?.id ?? '?'}: pull request ${run.pullRequestUrl}`,
    artifacts: [artifact],
    payload: summary,
  };
}

export const finalize: StepDefinition = {
  step: Step.FINALIZE,
  policy: (config) => standardPolicy(config, 5 * 60),
  run: finalizeRun,
};
