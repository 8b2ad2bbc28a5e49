import type { CommitInput } from '../providers/git/index.js';
import type { Run } from '../runs/db/runs.js';

/**
 * The commit a run makes: fixed date and message (the identity is the git provider's), so apply makes it
 * and publish, on a worker whose cache lacks it, re-creates the same sha from the stored patch.
 */
export function commitFor(run: Run): Omit<CommitInput, 'author'> {
  const phase = run.phase!;
  return {
    message: `${run.featureId}: Phase ${phase.id} ${phase.title}\n\nImplements ${phase.openTaskIds.join(', ')} of ${run.tasksPath}.\nCodex task: ${run.codexTaskUrl}\n${runTrailer(run)}\n`,
    date: run.createdAt,
  };
}

/** The line only this run's commits carry: a repeat of publish finds its own commit on the branch by it. */
export const runTrailer = (run: Pick<Run, 'id'>) => `spec-chain-run: ${run.id}`;
