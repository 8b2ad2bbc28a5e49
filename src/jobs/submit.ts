import { ArtifactKind, FailureCode, Step, WaitReason } from '../interfaces.js';
import { ProviderError } from '../providers/errors.js';
import { execJsonLines } from '../providers/codex-cloud/index.js';
import { CODEX_LOG_NAME } from '../runs/artifacts.js';
import { codexTaskLeft } from '../runs/remediation.js';
import { standardPolicy, type StepContext, type StepDefinition, type StepResult } from './step.js';

/**
 * The line that lets a restarted submit find the task it created before a crash. An attempt that takes
 * notes to Codex wants a new task, so it marks (and looks for) its own.
 */
export const taskMarker = (runId: string, notesAttempt?: number) => `spec-chain-run: ${runId}${notesAttempt ? ` attempt ${notesAttempt}` : ''}`;

/** The prompt a SUBMIT sends: the phase's, with what the operator said and, on a revision or a retry, why. */
function promptOf(run: StepContext['run'], notes: string | null, previous: string | null): string {
  const parts = [run.phase!.prompt.trimEnd()];
  if (run.revision) {
    parts.push(
      `This phase already has pull request #${run.revision.pullRequest.number} (${run.revision.pullRequest.url}); its change is applied ` +
        'before you start (the starting diff). Revise it as the notes below ask, on top of what is there: keep what the reviewer has seen unless the notes say otherwise.',
    );
  }
  if (previous) parts.push(`Your previous attempt at this phase ended like this:\n${quote(previous)}`);
  if (notes) parts.push(`Notes from the operator:\n${quote(notes)}`);
  return `${parts.join('\n\n')}\n`;
}

const quote = (text: string) => text.trim().split(/\r?\n/).map((line) => `> ${line}`).join('\n');

/**
 * submit: hand the phase to Codex Cloud. Credentials are checked before anything is created, and a
 * task this run created earlier (found by its marker, searching back to when the attempt began) is
 * adopted instead of creating a second one.
 */
async function submitPhase({ run, providers, artifacts, signal, deadline, attempt, guard, capacity }: StepContext): Promise<StepResult> {
  const previous = typeof attempt.payload?.previous === 'string' ? attempt.payload.previous : null;
  await providers.codex.checkCredentials(signal);
  const environment = await providers.codex.resolveEnvironment(run.repository, run.codexEnvironment ?? '', signal);
  const notes = attempt.notes;
  const marker = taskMarker(run.id, notes ? attempt.number : undefined);
  // Only an earlier try or attempt can have created a task for this run: the first one need not look.
  const mayExist = run.codexTaskId === null && (attempt.number > 1 || attempt.tries > 1);
  const since = notes ? attempt.startedAt : run.createdAt;
  const search = mayExist ? await providers.codex.findTaskByMarker(environment.id, marker, since, signal) : null;
  let taskId = run.codexTaskId ?? search?.taskId ?? null;
  const adopted = taskId !== null;
  let url: string;
  let slotTakenAt: Date | null = null;
  if (taskId) {
    url = (await providers.codex.getTask(taskId, signal)).url;
  } else {
    // A task in flight counts against the credential set's limit from here until APPLY sees it finish.
    const slot = await capacity.takeCodexSlot();
    if ('wait' in slot) return { kind: 'wait', message: slot.wait.message, waitingFor: slot.wait };
    slotTakenAt = slot.takenAt;
    // A revision starts from the pull request's change as the reviewer sees it (Codex's pre_apply_patch).
    const startingDiff = run.revision
      ? await providers.git.diff({ repository: run.repository, fromSha: run.revision.fromSha, toSha: run.revision.headSha, auth: await providers.gitAuth(), signal })
      : undefined;
    await guard();
    let task;
    try {
      // Once sent, the create runs to its end: cut off, Codex might make the task without the run knowing it.
      task = await providers.codex.submitTask(
        { environmentId: environment.id, branch: run.baseBranch, prompt: promptOf(run, notes, previous), bestOfN: run.codexBestOfN, marker, startingDiff },
        deadline,
      );
    } catch (error) {
      if (!(error instanceof ProviderError && error.code === FailureCode.RATE_LIMITED)) throw error;
      // Codex asked this account to slow down: every new submit of the set waits, not only this one.
      const until = new Date(Date.now() + (error.retryAfterMs ?? (await usageResetMs(providers, signal))));
      await capacity.pauseCodex(until, error.message);
      await capacity.releaseCodexSlot();
      return { kind: 'wait', message: error.message, waitingFor: { reason: WaitReason.CODEX_RATE_LIMITED, key: run.credentialSetId, until } };
    }
    taskId = task.taskId;
    url = task.url;
  }
  const log = artifacts.append(run.id, CODEX_LOG_NAME, ArtifactKind.CODEX_LOG, execJsonLines({ kind: 'submitted', taskId }).join('\n') + '\n');
  const how = search
    ? search.taskId
      ? `adopted Codex task ${taskId} created before a restart (found by its marker after reading ${search.tasksRead} tasks on ${search.pagesRead} pages)`
      : `submitted Codex task ${taskId}: no earlier task of this run among the ${search.tasksRead} tasks created since it started` +
        (search.complete ? '' : ` (${search.incomplete}: a task made before the restart could not be ruled out)`)
    : adopted
      ? `Codex task ${taskId} already recorded`
      : `submitted Codex task ${taskId}`;
  return {
    kind: 'done',
    message: how,
    outputs: { codexTaskId: taskId, codexTaskUrl: url, codexEnvironment: environment.id },
    artifacts: [{ kind: ArtifactKind.CODEX_TASK, location: url }, log],
    payload: { taskId, url, environmentId: environment.id, adopted, ...(slotTakenAt ? { codexSlotTakenAt: slotTakenAt.toISOString() } : {}), ...(search ? { search } : {}) },
  };
}

/** When a 429 says no time: until the spent usage window Codex reports resets (a minute when it reports none). */
async function usageResetMs(providers: StepContext['providers'], signal: AbortSignal): Promise<number> {
  const usage = await providers.codex.getUsage(signal).catch(() => null);
  const spent = [usage?.primaryWindow, usage?.secondaryWindow].filter((w) => w && w.usedPercent >= 100 && w.resetAfterSeconds !== null);
  const seconds = spent.length ? Math.max(...spent.map((w) => w!.resetAfterSeconds!)) : 60;
  return seconds * 1000;
}

export const submit: StepDefinition = {
  step: Step.SUBMIT,
  policy: (config) => standardPolicy(config, 10 * 60),
  run: submitPhase,
  // Codex Cloud's task API has no cancel: the run says what it leaves behind.
  undo: async (_ctx, { run }) => (run.codexTaskId ? { message: codexTaskLeft(run.codexTaskId), undone: { codexTask: codexTaskLeft(run.codexTaskId) } } : null),
};
