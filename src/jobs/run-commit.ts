import type { CommitInput } from '../providers/git/index.js';
import type { StepContext } from './step.js';

/**
 * The commit a run makes: fixed author, date and message, so apply makes it and publish, on a worker
 * whose cache lacks it, re-creates the same sha from the stored patch.
 */
export function commitFor(ctx: Pick<StepContext, 'run' | 'app'>): CommitInput {
  const { run } = ctx;
  const phase = run.phase!;
  return {
    message: `${run.featureId}: Phase ${phase.id} ${phase.title}\n\nImplements ${phase.openTaskIds.join(', ')} of ${run.tasksPath}.\nCodex task: ${run.codexTaskUrl}\nspec-chain-run: ${run.id}\n`,
    author: ctx.app.config.gitAuthor,
    date: run.createdAt,
  };
}
