import type { StackedOn } from '../entities/SpecWorkflowRun.js';
import { ArtifactKind, CommitVia, FailureCode, Service, Step } from '../interfaces.js';
import { credentials, permanent } from '../providers/errors.js';
import type { GitAuth } from '../providers/git/index.js';
import { commitFor, runTrailer } from './run-commit.js';
import { standardPolicy, StepFailure, type CancelledFacts, type StepContext, type StepDefinition, type StepResult, type UndoReport } from './step.js';

function pullRequestText(ctx: StepContext): { title: string; body: string } {
  const { run } = ctx;
  const phase = run.phase!;
  const title = `${run.featureId}: Phase ${phase.id} ${phase.title}`.slice(0, 250);
  const body = [
    ...(run.sandbox ? ['> **Sandbox run**: made against the local emulators, not Codex Cloud and GitHub.', ''] : []),
    `Implements **Phase ${phase.id}: ${phase.title}** of \`${run.tasksPath}\` (line ${phase.line}).`,
    '',
    ...(run.stackedOn ? [stackText(run.stackedOn), ''] : []),
    '### Tasks',
    ...phase.openTaskIds.map((id) => `- [x] ${id}`),
    '',
    `Codex task: ${run.codexTaskUrl}`,
    `spec-chain run: \`${run.id}\``,
  ].join('\n');
  return { title, body };
}

/** The phases under a stacked one, lowest first: the order to review and merge them in. */
function stackText(on: StackedOn): string {
  const chain = [...(on.below ?? []), on].map((p) => `#${p.pullRequest.number} (Phase ${p.phaseId})`);
  return `Stacked on ${chain.reverse().join(', on ')}, from \`${on.branch}\`: review and merge ${chain.length > 1 ? 'those' : 'that one'} first, from the lowest.`;
}

/**
 * publish: check the GitHub token first (an expired or read-only token stops here and no branch is
 * pushed), push the run's recorded commit by id in one atomic leased push (re-created from the stored
 * patch, to the same sha, only when this machine's cache lacks it because another worker applied it),
 * then create or update the pull request. A repeat finds the same branch and pull request.
 */
async function publishBranch(ctx: StepContext): Promise<StepResult> {
  const { run, providers, artifacts, signal, deadline, guard, cancelled } = ctx;
  const issues = await providers.github.checkAccess(run.repository, signal);
  if (issues.length) {
    const first = issues[0]!;
    throw credentials(first.code as FailureCode, issues.map((i) => i.message).join(' '), { secretRef: first.ref, service: Service.GITHUB });
  }
  let sha = run.commitSha!;
  const auth = await providers.gitAuth();
  const patch = async () => (await artifacts.read(run.id, 'patch.diff')).toString('utf8');
  if (!(await providers.git.hasCommit(run.repository, sha))) {
    const baseSha = run.baseSha ?? (await providers.git.fetchBase({ repository: run.repository, baseBranch: run.baseBranch, auth, signal }));
    const remade = await providers.git.applyPatchToCommit({
      repository: run.repository,
      baseSha,
      diff: await patch(),
      commit: commitFor(run),
      parentSha: run.revision?.headSha,
      auth,
      signal,
    });
    if (remade.sha !== sha) {
      throw permanent(
        FailureCode.INTERNAL,
        `Re-creating the commit gave ${remade.sha ?? `no commit (${remade.outcome})`}, not the recorded ${sha}: the base or the patch changed.`,
      );
    }
  }
  // A stacked run whose lower phase branch moved (pushed to, or merged and so out of review) goes on top
  // of its new head: the same change applied there again, or BASE_MOVED when it no longer applies.
  let baseBranch = run.baseBranch;
  const moved: Record<string, unknown> = {};
  if (run.stackedOn) {
    const lower = (await providers.github.phaseBranches({ repository: run.repository, branches: [run.stackedOn.branch] }, signal))[0];
    const onto = lower?.pullRequest
      ? { branch: lower.branch, head: lower.headSha }
      : { branch: run.rootBranch, head: await providers.git.fetchBase({ repository: run.repository, baseBranch: run.rootBranch, auth, signal }) };
    if (onto.head !== run.stackedOn.headSha) {
      await providers.git.fetchBase({ repository: run.repository, baseSha: onto.head, auth, signal });
      const rebased = await providers.git.applyPatchToCommit({ repository: run.repository, baseSha: onto.head, diff: await patch(), commit: commitFor(run), auth, signal });
      const why = lower?.pullRequest ? `${run.stackedOn.branch} moved to ${onto.head.slice(0, 12)}` : `${run.stackedOn.branch} is no longer in review (merged or closed)`;
      if (rebased.outcome !== 'committed') {
        throw new StepFailure(
          FailureCode.BASE_MOVED,
          `${why}, and this phase's change no longer applies on ${onto.branch}${rebased.conflictedPaths.length ? `: it conflicts in ${rebased.conflictedPaths.join(', ')}` : ''}.`,
        );
      }
      sha = rebased.sha!;
      baseBranch = onto.branch;
      Object.assign(moved, { rebasedOnto: { branch: onto.branch, sha: onto.head }, why });
    }
  }
  const branch = run.branch!;
  const state = await providers.github.getRepositoryState({ repository: run.repository, branch }, signal);
  // What this run makes (and a cancel takes back): a branch that did not exist, a pull request that was not open.
  const made = { branch, commitSha: sha, branchCreated: state.branch === null };
  await guard();
  if (await cancelled()) throw cancelledAt(made, 'before the push');
  // Once started, the push and the pull request run to their end (or the deadline): cut off halfway,
  // their outcome on GitHub would be unknown. A cancel is looked for after each.
  const byApi = providers.commitVia === CommitVia.API ? await commitByApi(ctx, sha, auth) : null;
  if (byApi) Object.assign(made, { commitSha: byApi.sha, branchCreated: byApi.branchCreated || made.branchCreated });
  const push = byApi
    ? { updated: byApi.created }
    : await providers.git.pushCommit({
        repository: run.repository,
        branch,
        sha,
        // A revision adds to what the reviewer saw: the branch must still be where the new commit's parent is.
        expectedRemoteSha: run.revision ? run.revision.headSha : (state.branch?.oid ?? null),
        auth,
        signal: deadline,
      });
  await guard();
  if (await cancelled()) throw cancelledAt({ ...made, pushed: true }, 'after the push');
  const pr = await providers.github.upsertPullRequest(
    { repository: run.repository, baseBranch, headBranch: branch, ...pullRequestText(ctx) },
    deadline,
  );
  return {
    kind: 'done',
    message: `${pr.created ? 'opened' : 'updated'} pull request #${pr.number} from ${branch} into ${baseBranch}${moved.rebasedOnto ? ` (rebased: ${moved.why})` : ''}`,
    outputs: {
      pullRequestNumber: pr.number,
      pullRequestUrl: pr.url,
      ...(moved.rebasedOnto ? { commitSha: sha, baseBranch } : {}),
      // GitHub made the commit: its sha, not the one the patch made here (the trees are the same).
      ...(byApi ? { commitSha: byApi.sha } : {}),
    },
    artifacts: [
      { kind: ArtifactKind.BRANCH, location: providers.branchUrl(run.repository, branch) },
      { kind: ArtifactKind.PULL_REQUEST, location: pr.url },
    ],
    payload: { ...made, ...moved, pushed: push.updated, ...(byApi ? { commitVia: CommitVia.API, verified: byApi.verified, localCommitSha: sha } : {}), pullRequest: { id: pr.id, number: pr.number, url: pr.url, created: pr.created } },
  };
}

/**
 * `commitVia: API`: GitHub makes the phase commit with createCommitOnBranch from the files the local
 * commit `sha` changes (so the trees are equal), signed and shown Verified. What the API cannot express
 * fails with API_COMMIT_UNSUPPORTED naming the paths, or returns null (push with git) when the
 * credential set allows that.
 */
async function commitByApi(ctx: StepContext, sha: string, auth: GitAuth) {
  const { run, providers, signal, deadline } = ctx;
  const change = await providers.git.readChange({ repository: run.repository, sha, auth, signal });
  if (change.unsupported.length) {
    if (providers.commitFallbackToGit) return null;
    const paths = change.unsupported.map((u) => `${u.path} (${u.why})`).join(', ');
    throw new StepFailure(
      FailureCode.API_COMMIT_UNSUPPORTED,
      `commitVia API cannot make this phase's commit: createCommitOnBranch writes whole plain files only, and the change holds ${paths}.`,
      [],
      { details: { unsupported: change.unsupported } },
    );
  }
  return providers.github.commitOnBranch(
    {
      repository: run.repository,
      branch: run.branch!,
      parentSha: change.parentSha,
      // A revision adds to what the reviewer saw; any other run replaces its branch, as the leased push does.
      mayReset: !run.revision,
      message: commitFor(run).message,
      trailer: runTrailer(run),
      additions: change.additions,
      deletions: change.deletions,
    },
    deadline,
  );
}

/** The run was cancelled part way: what exists so far, for the runtime to record and `undo` to take back. */
function cancelledAt(made: Record<string, unknown>, when: string): StepFailure {
  return new StepFailure(FailureCode.INTERNAL, `cancelled ${when}`, [], { details: made });
}

/**
 * After a cancel: closes the pull request this run opened (with a comment saying why) and deletes the
 * branch it created, as the configuration asks; a branch or pull request that existed before is left.
 */
async function undoPublish(
  { providers, policy, signal }: Pick<StepContext, 'providers' | 'policy' | 'signal'>,
  { run, payload }: CancelledFacts,
): Promise<UndoReport | null> {
  const undo = policy.undoOnCancel ?? { closePullRequest: true, deleteBranch: true };
  const undone: Record<string, string> = {};
  const pr = payload.pullRequest as { id: string; number: number; created: boolean } | undefined;
  if (pr?.created) {
    if (undo.closePullRequest) {
      await providers.github.closePullRequest(
        { pullRequestId: pr.id, comment: `Closed by spec-chain: run \`${run.id}\` was cancelled (${run.statusMessage ?? 'by an operator'}) while it opened this pull request.` },
        signal,
      );
      undone.pullRequest = `closed #${pr.number} with a comment`;
    } else undone.pullRequest = `left #${pr.number} open (CANCEL_CLOSES_PULL_REQUEST=0)`;
  }
  const branch = typeof payload.branch === 'string' ? payload.branch : null;
  if (branch && payload.branchCreated === true && (payload.pushed === true || pr)) {
    if (undo.deleteBranch) {
      const deleted = await providers.github.deleteBranch({ repository: run.repository, branch, oid: String(payload.commitSha) }, signal);
      undone.branch = deleted ? `deleted ${branch}` : `left ${branch}: it moved since this run pushed it`;
    } else undone.branch = `left ${branch} (CANCEL_DELETES_BRANCH=0)`;
  }
  if (!Object.keys(undone).length) return null;
  return { message: `after the cancel: ${Object.values(undone).join('; ')}`, undone };
}

export const publish: StepDefinition = {
  step: Step.PUBLISH,
  // A push of a large change over a slow link is the longest outside call of the chain.
  policy: (config) => ({
    ...standardPolicy(config, 30 * 60),
    undoOnCancel: { closePullRequest: config.cancelClosesPullRequest, deleteBranch: config.cancelDeletesBranch },
  }),
  run: publishBranch,
  undo: undoPublish,
};
