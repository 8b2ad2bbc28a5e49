import { ArtifactKind } from '../interfaces.js';
import type { StepWork } from './step.js';

/** finalize: the run's summary artifact; the runner then marks the run SUCCEEDED. */
export const finalize: StepWork = async ({ run, artifacts }) => {
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
  const artifact = await artifacts.write(run.id, 'summary.json', ArtifactKind.SUMMARY, JSON.stringify(summary, null, 2) + '\n', 'application/json');
  return {
    kind: 'done',
    message: `phase ${run.phase?.id ?? '?'}: pull request ${run.pullRequestUrl}`,
    artifacts: [artifact],
    payload: summary,
  };
};
