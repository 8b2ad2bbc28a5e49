import { ArtifactKind, FailureCode } from '../interfaces.js';
import { credentials, permanent } from '../providers/errors.js';
import { commitFor } from './run-commit.js';
import type { StepContext, StepWork } from './step.js';

function pullRequestText(ctx: StepContext): { title: string; body: string } {
  const { run } = ctx;
  const phase = run.phase!;
  const title = `${run.featureId}: Phase ${phase.id} ${phase.title}`.slice(0, 250);
  const body = [
    ...(run.sandbox ? ['> **Sandbox run**: made against the local emulators, not Codex Cloud and GitHub.', ''] : []),
    `Implements **Phase ${phase.id}: ${phase.title}** of \`${run.tasksPath}\` (line ${phase.line}).`,
    '',
    '### Tasks',
    ...phase.openTaskIds.map((id) => `- [x] ${id}`),
    '',
    `Codex task: ${run.codexTaskUrl}`,
    `spec-chain run: \`${run.id}\``,
  ].join('\n');
  return { title, body };
}

/**
 * publish: check the GitHub token first (an expired or read-only token stops here and no branch is
 * pushed), push the run's recorded commit by id in one atomic leased push (re-created from the stored
 * patch, to the same sha, only when this machine's cache lacks it because another worker applied it),
 * then create or update the pull request. A repeat finds the same branch and pull request.
 */
export const publish: StepWork = async (ctx) => {
  const { run, providers, artifacts, signal } = ctx;
  const issues = await providers.github.checkAccess(run.repository, signal);
  if (issues.length) {
    const first = issues[0]!;
    throw credentials(first.code as FailureCode, issues.map((i) => i.message).join(' '), { secretRef: first.ref });
  }
  const sha = run.commitSha!;
  const auth = await providers.gitAuth();
  if (!(await providers.git.hasCommit(run.repository, sha))) {
    const patch = (await artifacts.read(`${run.id}/patch.diff`)).toString('utf8');
    const baseSha = run.baseSha ?? (await providers.git.fetchBase({ repository: run.repository, baseBranch: run.baseBranch, auth, signal }));
    const made = await providers.git.applyPatchToCommit({ repository: run.repository, baseSha, diff: patch, commit: commitFor(ctx), auth, signal });
    if (made.sha !== sha) {
      throw permanent(
        FailureCode.INTERNAL,
        `Re-creating the commit gave ${made.sha ?? `no commit (${made.outcome})`}, not the recorded ${sha}: the base or the patch changed.`,
      );
    }
  }
  const branch = run.branch!;
  const state = await providers.github.getRepositoryState({ repository: run.repository, branch }, signal);
  const push = await providers.git.pushCommit({
    repository: run.repository,
    branch,
    sha,
    expectedRemoteSha: state.branch?.oid ?? null,
    auth,
    signal,
  });
  const pr = await providers.github.upsertPullRequest(
    { repository: run.repository, baseBranch: run.baseBranch, headBranch: branch, ...pullRequestText(ctx) },
    signal,
  );
  return {
    kind: 'done',
    message: `${pr.created ? 'opened' : 'updated'} pull request #${pr.number} from ${branch}`,
    outputs: { pullRequestNumber: pr.number, pullRequestUrl: pr.url },
    artifacts: [
      { kind: ArtifactKind.BRANCH, location: providers.branchUrl(run.repository, branch) },
      { kind: ArtifactKind.PULL_REQUEST, location: pr.url },
    ],
    payload: { branch, commitSha: sha, pushed: push.updated, pullRequest: { number: pr.number, url: pr.url, created: pr.created } },
  };
};
