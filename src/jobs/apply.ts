import { ArtifactKind, FailureCode, Step } from '../interfaces.js';
import { execJsonLines, type TaskSnapshot } from '../providers/codex-cloud/index.js';
import { ProviderError } from '../providers/errors.js';
import { branchName } from '../providers/git/index.js';
import { CODEX_LOG_NAME } from '../runs/artifacts.js';
import type { ArtifactInput } from '../runs/db/artifacts.js';
import { commitFor } from './run-commit.js';
import { standardPolicy, StepFailure, type StepContext, type StepDefinition, type StepResult } from './step.js';

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
    // A revision's change holds the pull request's own (Codex started from it): its tree is committed on
    // top of the pull request's head, so the commits a reviewer has seen stay as they are.
    result = await providers.git.applyPatchToCommit({
      repository: run.repository,
      baseSha,
      diff,
      commit: commitFor(run),
      parentSha: run.revision?.headSha,
      auth,
      signal,
    });
  } catch (e) {
    if (e instanceof ProviderError && e.code === FailureCode.PATCH_UNSAFE) throw new StepFailure(e.code, e.message, evidence);
    throw e;
  }
  const output = artifacts.write(run.id, 'apply-output.txt', ArtifactKind.APPLY_OUTPUT, result.output || '(git apply printed nothing)\n');
  if (result.outcome === 'conflicts') {
    const report = artifacts.write(
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
 * apply: look at the Codex task (the runner re-queues the attempt with a growing pause while it is
 * still running, and fails it at the policy's deadline), then apply its diff and commit. No diff or an
 * error end the run with the reason.
 */
async function applyPatch(ctx: StepContext): Promise<StepResult> {
  const { run, providers, artifacts, signal, attempt, capacity } = ctx;
  const polls = Number(attempt.payload?.polls ?? 0) + 1;
  const snapshot = await providers.codex.getTask(run.codexTaskId!, signal);
  const log = artifacts.append(run.id, CODEX_LOG_NAME, ArtifactKind.CODEX_LOG, logLines(snapshot, polls));
  // The task is done working on Codex Cloud: its slot goes to the next run of the credential set.
  if (snapshot.status !== 'PENDING') await capacity.releaseCodexSlot();

  if (snapshot.status === 'PENDING') {
    return {
      kind: 'wait',
      message: `Codex task ${snapshot.turnStatus ?? 'pending'} (look ${polls})`,
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

  const patch = artifacts.write(run.id, 'patch.diff', ArtifactKind.PATCH, snapshot.diff, 'text/x-diff; charset=utf-8');
  const { sha, artifacts: applied } = await applyAndCommit(ctx, snapshot.diff, [log, patch]);
  const branch = branchName(run.featureId!, run.phase!.id);
  return {
    kind: 'done',
    message: `applied ${snapshot.diffStats.filesModified} file(s) from Codex task ${snapshot.taskId} as ${sha.slice(0, 12)}`,
    outputs: { commitSha: sha, branch },
    artifacts: [log, patch, ...applied],
    payload: { polls, commitSha: sha, branch, diffStats: snapshot.diffStats },
  };
}

export const apply: StepDefinition = {
  step: Step.APPLY,
  policy: (config) => ({
    ...standardPolicy(config, 30 * 60),
    poll: {
      firstMs: config.codexPollIntervalSeconds * 1000,
      maxMs: config.codexPollMaxIntervalSeconds * 1000,
      factor: 1.5,
      deadlineMs: config.codexPollDeadlineMinutes * 60_000,
      code: FailureCode.CODEX_TIMEOUT,
    },
  }),
  run: applyPatch,
};
