import { ArtifactKind, FailureCode, Service, Step } from '../interfaces.js';
import { credentials, permanent } from '../providers/errors.js';
import { applyAndCommit } from './apply.js';
import { standardPolicy, type StepContext, type StepDefinition, type StepResult } from './step.js';

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
 * pushed), re-create the run's commit from the stored patch (same sha on any worker), push the branch in
 * one atomic push, then create or update the pull request. A repeat finds the same branch and pull request.
 */
async function publishBranch(ctx: StepContext): Promise<StepResult> {
  const { run, providers, artifacts, signal, guard } = ctx;
  const issues = await providers.github.checkAccess(run.repository, signal);
  if (issues.length) {
    const first = issues[0]!;
    throw credentials(first.code as FailureCode, issues.map((i) => i.message).join(' '), { secretRef: first.ref, service: Service.GITHUB });
  }
  const patch = (await artifacts.read(`${run.id}/patch.diff`)).toString('utf8');
  const { sha, path } = await applyAndCommit(ctx, patch, []);
  if (sha !== run.commitSha) {
    throw permanent(FailureCode.INTERNAL, `Re-creating the commit gave ${sha}, not the recorded ${run.commitSha}: the base or the patch changed.`);
  }
  const branch = run.branch!;
  const state = await providers.github.getRepositoryState({ repository: run.repository, branch }, signal);
  await guard();
  const push = await providers.git.pushBranch({
    repository: run.repository,
    worktreePath: path,
    branch,
    sha,
    expectedRemoteSha: state.branch?.oid ?? null,
    auth: await providers.gitAuth(),
    signal,
  });
  await guard();
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
}

export const publish: StepDefinition = {
  step: Step.PUBLISH,
  // A push of a large change over a slow link is the longest outside call of the chain.
  policy: (config) => standardPolicy(config, 30 * 60),
  run: publishBranch,
};
