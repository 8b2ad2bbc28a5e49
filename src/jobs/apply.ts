import { ArtifactKind, FailureCode } from '../interfaces.js';
import { execJsonLines, type TaskSnapshot } from '../providers/codex-cloud/index.js';
import { ProviderError } from '../providers/errors.js';
import { branchName } from '../providers/git/index.js';
import type { ArtifactInput } from '../runs/artifacts.js';
import { commitFor } from './run-commit.js';
import { codexLogName } from './submit.js';
import { StepFailure, type StepContext, type StepWork } from './step.js';

/** A poll as a line of the exec-json log; a pending poll is an item.updated so the log shows the wait. */
function logLines(snapshot: TaskSnapshot, poll: number): string {
  const lines =
    snapshot.status === 'PENDING'
      ? [JSON.stringify({ type: 'item.updated', item: { id: 'codex_task', type: 'todo_list', items: [{ text: `Codex task ${snapshot.taskId} is ${snapshot.turnStatus ?? 'pending'} (poll ${poll})`, completed: false }] } })]
      : execJsonLines({ kind: 'polled', snapshot });
  return lines.length ? lines.join('\n') + '\n' : '';
}

/**
 * Applies the patch to the recorded base commit and commits it, without a checkout (the git provider
 * works on a temporary index): the conflict report and apply output are kept as artifacts.
 */
async function applyAndCommit(ctx: StepContext, diff: string, evidence: ArtifactInput[]): Promise<{ sha: string; artifacts: ArtifactInput[] }> {
  const { run, providers, artifacts, signal } = ctx;
  const auth = await providers.gitAuth();
  const baseSha = run.baseSha ?? (await providers.git.fetchBase({ repository: run.repository, baseBranch: run.baseBranch, auth, signal }));
  let result;
  try {
    result = await providers.git.applyPatchToCommit({ repository: run.repository, baseSha, diff, commit: commitFor(ctx), auth, signal });
  } catch (e) {
    if (e instanceof ProviderError && e.code === FailureCode.PATCH_UNSAFE) throw new StepFailure(e.code, e.message, evidence);
    throw e;
  }
  const output = await artifacts.write(run.id, 'apply-output.txt', ArtifactKind.APPLY_OUTPUT, result.output || '(git apply printed nothing)\n');
  if (result.outcome === 'conflicts') {
    const report = await artifacts.write(
      run.id,
      'conflict-report.json',
      ArtifactKind.CONFLICT_REPORT,
      JSON.stringify({ baseSha, conflictedPaths: result.conflictedPaths, conflicts: result.conflicts }, null, 2),
      'application/json',
    );
    throw new StepFailure(
      FailureCode.MERGE_CONFLICT,
      `The patch conflicts with ${run.baseBranch} at ${baseSha.slice(0, 12)} in ${result.conflictedPaths.join(', ')}.`,
      [...evidence, output, report],
      { details: { conflictedPaths: result.conflictedPaths } },
    );
  }
  if (result.outcome === 'failed') {
    const tail = result.output.trim().split('\n').slice(-3).join(' / ');
    throw new StepFailure(FailureCode.PATCH_FAILED, `git apply --3way failed: ${tail}`, [...evidence, output]);
  }
  return { sha: result.sha!, artifacts: [output] };
}

/**
 * apply: poll the Codex task durably (the step re-queues itself with a growing delay instead of sleeping
 * in a worker), then apply its diff and commit. No diff, an error or the deadline end the run with the reason.
 */
export const apply: StepWork = async (ctx) => {
  const { run, providers, artifacts, signal, state, app } = ctx;
  const polls = Number(state.payload?.polls ?? 0) + 1;
  const snapshot = await providers.codex.getTask(run.codexTaskId!, signal);
  const log = await artifacts.append(run.id, codexLogName, ArtifactKind.CODEX_LOG, logLines(snapshot, polls));

  if (snapshot.status === 'PENDING') {
    const { codexPollDeadlineMinutes, codexPollIntervalSeconds, codexPollMaxIntervalSeconds } = app.config;
    const waited = Date.now() - (state.startedAt ?? new Date()).getTime();
    if (waited > codexPollDeadlineMinutes * 60_000) {
      throw new StepFailure(
        FailureCode.CODEX_TIMEOUT,
        `Codex task ${snapshot.taskId} is still ${snapshot.turnStatus ?? 'pending'} after ${codexPollDeadlineMinutes} minutes (${polls} polls).`,
        [log],
      );
    }
    const delayMs = Math.min(codexPollIntervalSeconds * 1000 * 1.5 ** (polls - 1), codexPollMaxIntervalSeconds * 1000);
    return {
      kind: 'wait',
      message: `Codex task ${snapshot.turnStatus ?? 'pending'}; poll ${polls}, next in ${Math.round(delayMs / 1000)} s`,
      delayMs,
      artifacts: [log],
      payload: { polls, turnStatus: snapshot.turnStatus, taskId: snapshot.taskId },
    };
  }
  if (snapshot.status === 'ERROR') {
    const why = snapshot.error ? `${snapshot.error.code}: ${snapshot.error.message}` : `turn ${snapshot.turnStatus ?? 'failed'}`;
    throw new StepFailure(FailureCode.CODEX_TASK_FAILED, `Codex task ${snapshot.taskId} failed: ${why}`, [log], { details: { error: snapshot.error } });
  }
  if (!snapshot.diff) {
    const said = snapshot.messages.join('\n').trim() || '(the agent left no message)';
    throw new StepFailure(FailureCode.NO_DIFF, `Codex finished without a change. The agent said: ${said}`, [log]);
  }

  const patch = await artifacts.write(run.id, 'patch.diff', ArtifactKind.PATCH, snapshot.diff, 'text/x-diff; charset=utf-8');
  const { sha, artifacts: applied } = await applyAndCommit(ctx, snapshot.diff, [log, patch]);
  const branch = branchName(run.featureId!, run.phase!.id);
  return {
    kind: 'done',
    message: `applied ${snapshot.diffStats.filesModified} file(s) from Codex task ${snapshot.taskId} as ${sha.slice(0, 12)}`,
    outputs: { commitSha: sha, branch },
    artifacts: [log, patch, ...applied],
    payload: { polls, commitSha: sha, branch, diffStats: snapshot.diffStats },
  };
};
