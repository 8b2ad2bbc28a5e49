import { ArtifactKind } from '../interfaces.js';
import { execJsonLines } from '../providers/codex-cloud/index.js';
import type { StepWork } from './step.js';

/** The line that lets a restarted submit find the task it created before a crash. */
export const taskMarker = (runId: string) => `spec-chain-run: ${runId}`;
export const codexLogName = 'codex-log.jsonl';

/**
 * submit: hand the phase to Codex Cloud. Credentials are checked before anything is created, and a
 * task this run created earlier (found by its marker) is adopted instead of creating a second one.
 */
export const submit: StepWork = async ({ run, providers, artifacts, signal, attempt, state }) => {
  await providers.codex.checkCredentials(signal);
  const environment = await providers.codex.resolveEnvironment(run.repository, run.codexEnvironment ?? '', signal);
  const marker = taskMarker(run.id);
  // Only an earlier try or attempt can have created a task for this run: the first one need not look.
  const mayExist = attempt > 1 || state.tries > 1;
  let taskId = run.codexTaskId ?? (mayExist ? await providers.codex.findTaskByMarker(environment.id, marker, run.createdAt, signal) : null);
  const adopted = taskId !== null;
  let url: string;
  if (taskId) {
    url = (await providers.codex.getTask(taskId, signal)).url;
  } else {
    const task = await providers.codex.submitTask(
      { environmentId: environment.id, branch: run.baseBranch, prompt: run.phase!.prompt, attempts: run.codexAttempts, marker },
      signal,
    );
    taskId = task.taskId;
    url = task.url;
  }
  const log = await artifacts.append(run.id, codexLogName, ArtifactKind.CODEX_LOG, execJsonLines({ kind: 'submitted', taskId }).join('\n') + '\n');
  return {
    kind: 'done',
    message: adopted ? `adopted Codex task ${taskId} created before a restart` : `submitted Codex task ${taskId}`,
    outputs: { codexTaskId: taskId, codexTaskUrl: url, codexEnvironment: environment.id },
    artifacts: [{ kind: ArtifactKind.CODEX_TASK, location: url }, log],
    payload: { taskId, url, environmentId: environment.id, adopted },
  };
};
