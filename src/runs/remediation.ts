import { FailureCode, Service } from '../interfaces.js';

interface Guidance {
  /**
   * What the operator can do next. `{secret}` is replaced by the reference that needs fixing, `{service}`
   * by the service it is for and `{renew}` by how that service's secret is renewed.
   */
  remediation: string;
  /** Whether re-running the failed step with the stored outputs is safe and may succeed. */
  resumable: boolean;
}

/** The remediation of every failure code, written once. */
export const GUIDANCE: Record<FailureCode, Guidance> = {
  [FailureCode.SPEC_INVALID]: {
    remediation: 'Fix tasks.md at the file and line named above, push the fix to the base branch, then RESTART the run.',
    resumable: false,
  },
  [FailureCode.SPEC_TOO_COMPLEX]: {
    remediation:
      'Simplify tasks.md near the line named above (blank lines between blocks, less nesting; a file from /speckit.tasks never comes near the limits), push it to the base branch, then RESTART the run.',
    resumable: false,
  },
  [FailureCode.FEATURE_NOT_FOUND]: {
    remediation: 'Check the feature id (specs/<feature-id>/tasks.md must exist on the base branch) or .specify/feature.json, then RESTART the run.',
    resumable: false,
  },
  [FailureCode.REPOSITORY_UNAVAILABLE]: {
    remediation: 'Check that the repository and base branch exist and that the GitHub token can read them, then RESUME.',
    resumable: true,
  },
  [FailureCode.CREDENTIALS_MISSING]: {
    remediation: 'Set the {service} secret {secret} of the credential set (it is missing or empty where the worker runs), run validateCredentialSet, then RESUME.',
    resumable: true,
  },
  [FailureCode.CREDENTIALS_INVALID]: {
    remediation: 'Replace the {service} secret {secret} of the credential set with a valid one (it was rejected: {renew}), run validateCredentialSet, then RESUME.',
    resumable: true,
  },
  [FailureCode.CREDENTIALS_EXPIRED]: {
    remediation: 'Refresh the {service} secret {secret} (it has expired: {renew}), run validateCredentialSet, then RESUME.',
    resumable: true,
  },
  [FailureCode.PERMISSION_DENIED]: {
    remediation: 'Give the {service} token in {secret} write access to the repository (contents and pull requests), then RESUME.',
    resumable: true,
  },
  [FailureCode.CODEX_ENVIRONMENT_NOT_FOUND]: {
    remediation: 'Create a Codex Cloud environment for the repository or pass an existing environment id or label, then RESTART the run.',
    resumable: false,
  },
  [FailureCode.CODEX_ENVIRONMENT_AMBIGUOUS]: {
    remediation: 'Several Codex environments share that label: pass the environment id instead, then RESTART the run.',
    resumable: false,
  },
  [FailureCode.CODEX_REQUEST_REJECTED]: {
    remediation: 'Codex Cloud rejected the request; read the message, adjust the run input (model, attempts, environment), then RESTART.',
    resumable: false,
  },
  [FailureCode.CODEX_TASK_FAILED]: {
    remediation: 'Open the Codex task to read why it failed. RESUME with notes submits the phase again as a new Codex task with your notes; or fix the cause (environment setup, quota) and RESTART.',
    resumable: true,
  },
  [FailureCode.CODEX_TIMEOUT]: {
    remediation: 'The Codex task did not finish before the deadline. Check it on Codex Cloud: RESUME polls the same task again; RESTART submits a new one.',
    resumable: true,
  },
  [FailureCode.NO_DIFF]: {
    remediation: 'Codex finished without a change; its message above says why (often a question). Answer it: RESUME with notes submits the phase again with its last message and your answer; or change tasks.md or the spec and RESTART.',
    resumable: true,
  },
  [FailureCode.MERGE_CONFLICT]: {
    remediation: 'The patch conflicts with the base branch. RESUME with notes submits the phase again on the current base with your notes; or download the PATCH and CONFLICT_REPORT artifacts and resolve by hand.',
    resumable: true,
  },
  [FailureCode.PATCH_FAILED]: {
    remediation: 'git could not apply the patch (see APPLY_OUTPUT). RESTART so Codex works on the current base branch.',
    resumable: false,
  },
  [FailureCode.PATCH_UNSAFE]: {
    remediation: 'The patch writes outside the repository tree (.git, absolute path, .. or an escaping symlink) and was refused. Review the Codex task before doing anything else.',
    resumable: false,
  },
  [FailureCode.PUSH_REJECTED]: {
    remediation: 'The remote refused the branch (protected branch, or someone else pushed to it). Check the branch rules and the branch, then RESUME.',
    resumable: true,
  },
  [FailureCode.GITHUB_REJECTED]: {
    remediation: 'GitHub rejected the pull request request; read the message, fix the repository state it names, then RESUME.',
    resumable: true,
  },
  [FailureCode.RATE_LIMITED]: {
    remediation: 'The service kept rate-limiting after every retry. Wait for the limit to reset, then RESUME.',
    resumable: true,
  },
  [FailureCode.SERVICE_UNAVAILABLE]: {
    remediation: 'The outside service kept failing after every retry (network or 5xx). Check its status, then RESUME.',
    resumable: true,
  },
  [FailureCode.WORKER_LOST]: {
    remediation: 'The worker running this step stopped and the step ran out of retries. Check the workers, then RESUME.',
    resumable: true,
  },
  [FailureCode.PHASE_NOT_FOUND]: {
    remediation: 'tasks.md on the base branch has no phase with that id: check the phase headings (Phase <id>: …), then RESTART with an id it has, or without phaseId.',
    resumable: false,
  },
  [FailureCode.PHASE_DONE]: {
    remediation: 'Every task of that phase is done already. To have Codex do it again, RESTART with confirmRedo: true; to go on, RESTART without phaseId.',
    resumable: false,
  },
  [FailureCode.BASE_MOVED]: {
    remediation: 'The phase branch this stacked run builds on changed (pushed to, or merged) and the change no longer applies to its new head. RESTART with stack: true so Codex works on top of it again.',
    resumable: false,
  },
  [FailureCode.ARTIFACT_TOO_LARGE]: {
    remediation: 'What the step made is larger than ARTIFACT_MAX_BYTES allows. Split the phase into smaller ones (or raise the limit on every worker), then RESUME.',
    resumable: true,
  },
  [FailureCode.GITHUB_APP_NOT_INSTALLED]: {
    remediation: 'Install the {service} App whose private key is {secret} on the repository (or add the repository to its installation) with contents and pull requests write, check the installation id of the credential set, run validateCredentialSet, then RESUME.',
    resumable: true,
  },
  [FailureCode.API_COMMIT_UNSUPPORTED]: {
    remediation: 'createCommitOnBranch cannot make this change (the paths are named above). Set commitFallbackToGit on the credential set to push it with git, or commitVia GIT, then RESUME.',
    resumable: true,
  },
  [FailureCode.INTERNAL]: {
    remediation: 'An unexpected error; the message above and the service log (search for the run id) say more. RESUME once the cause is fixed.',
    resumable: true,
  },
};

/** What each service's secret is, and how it is renewed, for the credential remediations. */
const SERVICE_TEXT: Record<Service, { name: string; renew: string }> = {
  [Service.CODEX]: {
    name: 'Codex Cloud',
    renew: 'sign in again with `codex login` and store the new auth.json there, or store a new Codex access token (at-…)',
  },
  [Service.GITHUB]: {
    name: 'GitHub',
    renew: 'issue a new GitHub token with contents and pull-request write access and store it there',
  },
};

export function remediationFor(code: FailureCode | string, secretRef?: string | null, service?: Service | null): Guidance {
  const g = GUIDANCE[code as FailureCode] ?? GUIDANCE[FailureCode.INTERNAL];
  const text = service ? SERVICE_TEXT[service] : null;
  const remediation = g.remediation
    .replace('{secret}', secretRef ?? 'named in the message')
    .replace('{service} ', text ? `${text.name} ` : '')
    .replace('{renew}', text?.renew ?? 'renew it where it was issued');
  return { ...g, remediation };
}

/** What a cancel does to a Codex task: nothing it can, and the run says so. */
export const codexTaskLeft = (taskId: string) =>
  `Codex task ${taskId} was left to finish on Codex Cloud (its task API offers no way to cancel a task); nothing of it will be applied`;
