import { inTransaction } from '../db/transaction.js';
import { CredentialSet } from '../entities/index.js';
import { ArtifactKind, CREDENTIAL_FAILURES, FailureCode, FINAL_RUN_STATUSES, NOTES_ANSWER, RunStatus, Service, Step, UserErrorCode, type UserErrorData } from '../interfaces.js';
import { enqueueStep } from '../jobs/queues.js';
import { RetryMode } from '../schema/enums.js';
import { checkCredentials } from '../providers/preflight.js';
import { pgTokenCache } from '../providers/github/app-tokens.js';
import { githubSecretRef } from '../entities/CredentialSet.js';
import { ArtifactStore } from './artifacts.js';
import { nextAttemptNumber } from './db/attempts.js';
import { recordArtifacts } from './db/artifacts.js';
import { lockRun, NO_FAILURE, type Run } from './db/runs.js';
import { announce } from './events.js';
import { getRun } from './queries.js';
import { remediationFor } from './remediation.js';
import { createRun, MAX_NOTES, type RunServices } from './start.js';
import { moveRun } from './transitions.js';

/** The outside services the steps from `step` onwards need credentials for. */
function servicesFrom(step: Step): { codex: boolean; github: boolean } {
  return { codex: step === Step.SUBMIT || step === Step.APPLY || step === Step.DISCOVER, github: step !== Step.FINALIZE };
}

type Outcome = { run: Run | null; userErrors: UserErrorData[] };

/**
 * retryRun RESUME: the failed step runs again as a new attempt, reading the outputs already stored
 * (a publish failure reuses the stored patch and Codex task: nothing is submitted again).
 * A failure caused by credentials is checked first: while the secret is still broken the retry halts at
 * once with the same guidance, and the refusal is written to the run's event log.
 */
async function resume(svc: RunServices, run: Run, notes: string | null): Promise<Outcome> {
  if (run.status !== RunStatus.FAILED || !run.failureStep) {
    return { run: null, userErrors: [{ code: UserErrorCode.NOT_RESUMABLE, field: 'runId', message: `Run ${run.id} is ${run.status}; only a FAILED run can be resumed.` }] };
  }
  // What only an answer can mend is submitted again, with the answer; notes go nowhere else.
  const answered = run.failureCode !== null && NOTES_ANSWER.includes(run.failureCode);
  if (answered && !notes) {
    return {
      run: null,
      userErrors: [{ code: UserErrorCode.NOTES_REQUIRED, field: 'notes', message: `${run.failureCode} is answered by submitting the phase again with your notes: pass notes (what Codex should know or do).` }],
    };
  }
  if (!answered && notes) {
    return {
      run: null,
      userErrors: [{ code: UserErrorCode.NOTES_NOT_APPLICABLE, field: 'notes', message: `RESUME of ${run.failureCode} at ${run.failureStep} sends nothing to Codex, so notes would go nowhere; leave them out.` }],
    };
  }
  if (notes !== null && (notes.trim() === '' || notes.length > MAX_NOTES)) {
    return { run: null, userErrors: [{ code: UserErrorCode.INVALID_NOTES, field: 'notes', message: `notes must be 1 to ${MAX_NOTES} characters.` }] };
  }
  if (run.failureResumable === false) {
    return {
      run: null,
      userErrors: [{ code: UserErrorCode.NOT_RESUMABLE, field: 'mode', message: `${run.failureCode} at ${run.failureStep} cannot be resumed: ${run.failureRemediation ?? ''} Use RESTART with confirmRestart: true.` }],
    };
  }
  // An answer goes to Codex: the run goes back to SUBMIT, as a new task, whatever step found the failure.
  const failedStep = answered ? Step.SUBMIT : run.failureStep;
  if (run.failureCode && CREDENTIAL_FAILURES.includes(run.failureCode)) {
    const credentialSet = await svc.ds.getRepository(CredentialSet).findOneByOrFail({ id: run.credentialSetId });
    // Only broken credentials halt the retry: a service that could not be reached says nothing about them.
    const issues = (
      await checkCredentials(svc.config, credentialSet, { repository: run.repository, environment: run.codexEnvironment, ...servicesFrom(failedStep) }, svc.log, undefined, pgTokenCache(svc.db))
    ).filter((i) => CREDENTIAL_FAILURES.includes(i.code));
    if (issues.length) {
      const first = issues[0]!;
      const version = await inTransaction(svc.db, async (tx) => {
        const locked = (await lockRun(tx, run.id))!;
        return moveRun(tx, locked, RunStatus.FAILED, {}, { retry: 'RESUME', refused: true, code: first.code, secretRef: first.ref, message: first.message });
      });
      await announce(svc.db, run.id, version);
      const serviceOf = (ref: string) => (ref === credentialSet.codexAuthRef ? Service.CODEX : ref === githubSecretRef(credentialSet) ? Service.GITHUB : null);
      return {
        run: await getRun(svc.db, run.id),
        userErrors: issues.map((i) => ({
          code: i.code as unknown as UserErrorCode,
          field: 'credentials',
          message: `${i.message} ${remediationFor(i.code, i.ref, serviceOf(i.ref)).remediation}`,
        })),
      };
    }
  }
  const store = new ArtifactStore(svc.db, svc.config.artifactMaxBytes);
  const outcome = await inTransaction(svc.db, async (tx) => {
    const locked = (await lockRun(tx, run.id))!;
    if (locked.status !== RunStatus.FAILED) return null;
    const attempt = await nextAttemptNumber(tx, run.id, failedStep);
    const context = store.write(
      run.id,
      `${failedStep.toLowerCase()}-${attempt}-retry-context.json`,
      ArtifactKind.RETRY_CONTEXT,
      JSON.stringify({ mode: 'RESUME', step: failedStep, attempt, previous: { code: run.failureCode, message: run.failureMessage }, ...(notes ? { notes } : {}) }, null, 2),
      'application/json',
    );
    await recordArtifacts(tx, run.id, failedStep, attempt, [context]);
    // A new Codex task: the old one's outputs go (and, after a conflict, the old base: Codex works on the current one).
    const fresh = answered
      ? { codexTaskId: null, codexTaskUrl: null, commitSha: null, ...(run.failureCode === FailureCode.MERGE_CONFLICT ? { baseSha: null } : {}) }
      : {};
    await moveRun(tx, locked, RunStatus.QUEUED, {
      ...NO_FAILURE, ...fresh, finishedAt: null, currentStep: failedStep, statusMessage: `resumed at ${failedStep}${notes ? ' with notes for Codex' : ''}`,
    }, { retry: 'RESUME', step: failedStep, attempt, ...(notes ? { notes } : {}) });
    return enqueueStep(tx, svc.boss, run.id, failedStep, attempt, notes ? { notes, payload: { previous: run.failureMessage } } : {});
  });
  if (outcome === null) return { run: null, userErrors: [{ code: UserErrorCode.NOT_RESUMABLE, field: 'runId', message: `Run ${run.id} changed meanwhile; read it again.` }] };
  await announce(svc.db, run.id, outcome);
  return { run: await getRun(svc.db, run.id), userErrors: [] };
}

/** retryRun RESTART: a new run from discovery with the same inputs, linked by retryOf; only with explicit consent. */
async function restart(svc: RunServices, run: Run, confirmed: boolean): Promise<Outcome> {
  if (!confirmed) {
    return {
      run: null,
      userErrors: [{ code: UserErrorCode.CONFIRMATION_REQUIRED, field: 'confirmRestart', message: 'RESTART starts a new run from discovery and submits a new Codex task: pass confirmRestart: true.' }],
    };
  }
  if (!FINAL_RUN_STATUSES.includes(run.status)) {
    return { run: null, userErrors: [{ code: UserErrorCode.RUN_ACTIVE, field: 'runId', message: `Run ${run.id} is still ${run.status}; cancel it before restarting.` }] };
  }
  try {
    const { runId, version } = await inTransaction(svc.db, (tx) =>
      createRun(tx, svc.boss, {
        repository: run.repository,
        featureId: run.featureId,
        // A restart starts where the run was asked to, and decides again whether to stack.
        baseBranch: run.rootBranch,
        stack: run.stack,
        phaseRequest: run.phaseRequest,
        confirmRedo: run.confirmRedo,
        notes: run.notes,
        credentialSetId: run.credentialSetId,
        codexEnvironment: run.codexEnvironment,
        codexBestOfN: run.codexBestOfN,
        idempotencyKey: null,
        sandbox: run.sandbox,
        retryOf: run.id,
      }),
    );
    await announce(svc.db, runId, version);
    return { run: await getRun(svc.db, runId), userErrors: [] };
  } catch (e) {
    if ((e as { code?: string }).code === '23505') {
      return { run: null, userErrors: [{ code: UserErrorCode.RUN_ACTIVE, field: 'runId', message: `Another run is already working on ${run.repository} ${run.featureId ?? ''}.` }] };
    }
    throw e;
  }
}

export async function retryRun(
  svc: RunServices,
  input: { runId: string; mode: RetryMode; confirmRestart?: boolean | null; notes?: string | null },
): Promise<Outcome> {
  const run = await getRun(svc.db, input.runId);
  if (!run) return { run: null, userErrors: [{ code: UserErrorCode.NOT_FOUND, field: 'runId', message: `No run ${input.runId}.` }] };
  return input.mode === RetryMode.RESUME ? resume(svc, run, input.notes ?? null) : restart(svc, run, input.confirmRestart === true);
}
