import type { PgBoss } from 'pg-boss';
import type { DataSource } from 'typeorm';
import type { Config } from '../config.js';
import type { UserErrorData } from '../credential-sets/store.js';
import { inTransaction } from '../db/transaction.js';
import { CredentialSet, type SpecWorkflowRun } from '../entities/index.js';
import { ArtifactKind, FailureCode, FINAL_RUN_STATUSES, RunStatus, Step } from '../interfaces.js';
import { RetryMode } from '../schema/enums.js';
import { checkCredentials } from '../providers/preflight.js';
import type { Logger } from '../log.js';
import { ArtifactStore, recordArtifacts } from './artifacts.js';
import { announce } from './events.js';
import { getRun } from './queries.js';
import { remediationFor } from './remediation.js';
import { createRun, enqueueStep } from './start.js';
import { lockRun, moveRun, nextAttempt } from './transitions.js';

const CREDENTIAL_CODES: string[] = [
  FailureCode.CREDENTIALS_MISSING,
  FailureCode.CREDENTIALS_INVALID,
  FailureCode.CREDENTIALS_EXPIRED,
  FailureCode.PERMISSION_DENIED,
];

/** The outside services the steps from `step` onwards need credentials for. */
function servicesFrom(step: Step): { codex: boolean; github: boolean } {
  return { codex: step === Step.SUBMIT || step === Step.APPLY || step === Step.DISCOVER, github: step !== Step.FINALIZE };
}

type Outcome = { run: SpecWorkflowRun | null; userErrors: UserErrorData[] };

/**
 * retryRun RESUME: the failed step runs again as a new attempt, reading the outputs already stored
 * (a publish failure reuses the stored patch and Codex task: nothing is submitted again).
 * A failure caused by credentials is checked first: while the secret is still broken the retry halts at
 * once with the same guidance, and the refusal is written to the run's event log.
 */
async function resume(ds: DataSource, boss: PgBoss, config: Config, log: Logger, run: SpecWorkflowRun): Promise<Outcome> {
  if (run.status !== RunStatus.FAILED || !run.failureStep) {
    return { run: null, userErrors: [{ code: 'NOT_RESUMABLE', field: 'runId', message: `Run ${run.id} is ${run.status}; only a FAILED run can be resumed.` }] };
  }
  if (run.failureResumable === false) {
    return {
      run: null,
      userErrors: [{ code: 'NOT_RESUMABLE', field: 'mode', message: `${run.failureCode} at ${run.failureStep} cannot be resumed: ${run.failureRemediation ?? ''} Use RESTART with confirmRestart: true.` }],
    };
  }
  const failedStep = run.failureStep;
  if (run.failureCode && CREDENTIAL_CODES.includes(run.failureCode)) {
    const credentialSet = await ds.getRepository(CredentialSet).findOneByOrFail({ id: run.credentialSetId });
    // Only broken credentials halt the retry: a service that could not be reached says nothing about them.
    const issues = (
      await checkCredentials(config, credentialSet, { repository: run.repository, environment: run.codexEnvironment, ...servicesFrom(failedStep) }, log)
    ).filter((i) => CREDENTIAL_CODES.includes(i.code));
    if (issues.length) {
      const first = issues[0]!;
      const version = await inTransaction(ds, async (tx) => {
        const locked = (await lockRun(tx, run.id))!;
        return moveRun(tx, locked, RunStatus.FAILED, {}, { retry: 'RESUME', refused: true, code: first.code, secretRef: first.ref, message: first.message });
      });
      await announce(ds, run.id, version);
      return {
        run: await getRun(ds, run.id),
        userErrors: issues.map((i) => ({ code: i.code, field: 'credentials', message: `${i.message} ${remediationFor(i.code, i.ref).remediation}` })),
      };
    }
  }
  const store = new ArtifactStore(config.artifactDir);
  const outcome = await inTransaction(ds, async (tx) => {
    const locked = (await lockRun(tx, run.id))!;
    if (locked.status !== RunStatus.FAILED) return null;
    const attempt = await nextAttempt(tx, run.id, failedStep);
    const context = await store.write(
      run.id,
      `${failedStep.toLowerCase()}-${attempt}-retry-context.json`,
      ArtifactKind.RETRY_CONTEXT,
      JSON.stringify({ mode: 'RESUME', step: failedStep, attempt, previous: { code: run.failureCode, message: run.failureMessage } }, null, 2),
      'application/json',
    );
    await recordArtifacts(tx, run.id, failedStep, attempt, [context]);
    await moveRun(tx, locked, RunStatus.QUEUED, {
      failureCode: null, failureStep: null, failureMessage: null, failureRemediation: null, failureResumable: null,
      finishedAt: null, currentStep: failedStep, statusMessage: `resumed at ${failedStep}`,
    }, { retry: 'RESUME', step: failedStep, attempt });
    return enqueueStep(tx, boss, run.id, failedStep, attempt);
  });
  if (outcome === null) return { run: null, userErrors: [{ code: 'NOT_RESUMABLE', field: 'runId', message: `Run ${run.id} changed meanwhile; read it again.` }] };
  await announce(ds, run.id, outcome);
  return { run: await getRun(ds, run.id), userErrors: [] };
}

/** retryRun RESTART: a new run from discovery with the same inputs, linked by retryOf; only with explicit consent. */
async function restart(ds: DataSource, boss: PgBoss, run: SpecWorkflowRun, confirmed: boolean): Promise<Outcome> {
  if (!confirmed) {
    return {
      run: null,
      userErrors: [{ code: 'CONFIRMATION_REQUIRED', field: 'confirmRestart', message: 'RESTART starts a new run from discovery and submits a new Codex task: pass confirmRestart: true.' }],
    };
  }
  if (!FINAL_RUN_STATUSES.includes(run.status)) {
    return { run: null, userErrors: [{ code: 'RUN_ACTIVE', field: 'runId', message: `Run ${run.id} is still ${run.status}; cancel it before restarting.` }] };
  }
  try {
    const { runId, version } = await inTransaction(ds, (tx) =>
      createRun(tx, boss, {
        repository: run.repository,
        featureId: run.featureId,
        baseBranch: run.baseBranch,
        credentialSetId: run.credentialSetId,
        codexEnvironment: run.codexEnvironment,
        model: run.model,
        codexAttempts: run.codexAttempts,
        idempotencyKey: null,
        sandbox: run.sandbox,
        retryOf: run.id,
      }),
    );
    await announce(ds, runId, version);
    return { run: await getRun(ds, runId), userErrors: [] };
  } catch (e) {
    if ((e as { code?: string }).code === '23505') {
      return { run: null, userErrors: [{ code: 'RUN_ACTIVE', field: 'runId', message: `Another run is already working on ${run.repository} ${run.featureId ?? ''}.` }] };
    }
    throw e;
  }
}

export async function retryRun(
  ds: DataSource,
  boss: PgBoss,
  config: Config,
  log: Logger,
  input: { runId: string; mode: RetryMode; confirmRestart?: boolean | null },
): Promise<Outcome> {
  const run = await getRun(ds, input.runId);
  if (!run) return { run: null, userErrors: [{ code: 'NOT_FOUND', field: 'runId', message: `No run ${input.runId}.` }] };
  return input.mode === RetryMode.RESUME ? resume(ds, boss, config, log, run) : restart(ds, boss, run, input.confirmRestart === true);
}
