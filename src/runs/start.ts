import type { App } from '../app.js';
import { REPOSITORY } from '../credential-sets/store.js';
import { inTransaction, type Tx } from '../db/transaction.js';
import { CredentialSet } from '../entities/index.js';
import { isUuid, MAX_LENGTH, RunStatus, Step, tooLong, UserErrorCode, type UserErrorData } from '../interfaces.js';
import { enqueueStep } from '../jobs/queues.js';
import type { PgBoss } from 'pg-boss';
import { isValidBranchName } from '../providers/git/branch-name.js';
import { isValidFeatureId } from '../speckit/index.js';
import { activeRunOf, insertRun, runByIdempotencyKey, type NewRun, type Run } from './db/runs.js';
import { announce } from './events.js';
import { getRun } from './queries.js';
import { moveRun } from './transitions.js';

/** What the run-changing operations (start, retry, cancel) work with. */
export type RunServices = Pick<App, 'db' | 'ds' | 'boss' | 'config' | 'log'>;

export interface StartInput {
  repository: string;
  featureId?: string | null;
  baseBranch?: string | null;
  credentialSetId: string;
  codexEnvironment?: string | null;
  bestOfN?: number | null;
  idempotencyKey?: string | null;
  stack?: boolean | null;
  phaseId?: string | null;
  confirmRedo?: boolean | null;
  notes?: string | null;
}

/** Notes to Codex: enough for a careful answer, far from a prompt-sized document. */
export const MAX_NOTES = MAX_LENGTH.notes;
const PHASE_ID = /^(?:\d+(?:\.\d+)*[a-z]?|[A-Z])$/;


function validate(input: StartInput, credentialSet: CredentialSet | null): UserErrorData[] {
  const errors: UserErrorData[] = [];
  if (!REPOSITORY.test(input.repository)) {
    errors.push({ code: UserErrorCode.INVALID_REPOSITORY, field: 'repository', message: `"${input.repository.slice(0, 200)}" is not a GitHub owner/name.` });
  }
  if (input.featureId != null && !isValidFeatureId(input.featureId)) {
    errors.push({
      code: UserErrorCode.INVALID_FEATURE_ID,
      field: 'featureId',
      message: `"${input.featureId.slice(0, 100)}" is not a Spec Kit feature id (<number>-<kebab-name>, e.g. 001-user-auth, or YYYYMMDD-HHMMSS-<name>).`,
    });
  }
  if (input.baseBranch != null && (input.baseBranch.length > MAX_LENGTH.branch || !isValidBranchName(input.baseBranch))) {
    errors.push({
      code: UserErrorCode.INVALID_BRANCH,
      field: 'baseBranch',
      message: `"${input.baseBranch.slice(0, 100)}" is not a branch name (git check-ref-format, no leading "-", at most ${MAX_LENGTH.branch} characters).`,
    });
  }
  const environment = tooLong('codexEnvironment', input.codexEnvironment, MAX_LENGTH.codexEnvironment);
  if (environment) errors.push(environment);
  if (input.bestOfN != null && (!Number.isInteger(input.bestOfN) || input.bestOfN < 1 || input.bestOfN > 4)) {
    errors.push({ code: UserErrorCode.INVALID_BEST_OF_N, field: 'bestOfN', message: 'bestOfN must be 1 to 4 (how many solutions Codex works out).' });
  }
  if (input.phaseId != null && !PHASE_ID.test(input.phaseId)) {
    errors.push({ code: UserErrorCode.INVALID_PHASE_ID, field: 'phaseId', message: `"${input.phaseId.slice(0, 50)}" is not a phase id (3, 3.10, 5b or A, as in "## Phase 3: …").` });
  }
  if (input.notes != null && (input.notes.trim() === '' || input.notes.length > MAX_NOTES)) {
    errors.push({ code: UserErrorCode.INVALID_NOTES, field: 'notes', message: `notes must be 1 to ${MAX_NOTES} characters.` });
  }
  if (input.idempotencyKey != null && (input.idempotencyKey.length < 1 || input.idempotencyKey.length > MAX_LENGTH.idempotencyKey)) {
    errors.push({ code: UserErrorCode.INVALID_IDEMPOTENCY_KEY, field: 'idempotencyKey', message: `idempotencyKey must be 1 to ${MAX_LENGTH.idempotencyKey} characters.` });
  }
  if (!credentialSet) {
    errors.push({ code: UserErrorCode.UNKNOWN_CREDENTIAL_SET, field: 'credentialSetId', message: `No credential set ${input.credentialSetId}.` });
  } else {
    if (credentialSet.repositories.length && !credentialSet.repositories.includes(input.repository)) {
      errors.push({
        code: UserErrorCode.CREDENTIAL_SET_NOT_FOR_REPOSITORY,
        field: 'credentialSetId',
        message: `Credential set "${credentialSet.name}" is for ${credentialSet.repositories.join(', ')}, not ${input.repository}.`,
      });
    }
    if (!input.codexEnvironment && !credentialSet.codexEnvironment) {
      errors.push({
        code: UserErrorCode.CODEX_ENVIRONMENT_REQUIRED,
        field: 'codexEnvironment',
        message: `Name a Codex Cloud environment (id or label): credential set "${credentialSet.name}" has no default.`,
      });
    }
  }
  return errors;
}

/** Inserts a run and its first step job in one transaction; returns its id and the last event's version. */
export async function createRun(tx: Tx, boss: PgBoss, values: Omit<NewRun, 'status'>): Promise<{ runId: string; version: number }> {
  const runId = await insertRun(tx, { ...values, status: RunStatus.QUEUED });
  await moveRun(tx, { id: runId, status: null }, RunStatus.QUEUED, {}, {
    sandbox: values.sandbox,
    ...(values.retryOf ? { retryOf: values.retryOf } : {}),
  });
  const version = await enqueueStep(tx, boss, runId, Step.DISCOVER, 1);
  return { runId, version };
}

const isUniqueViolation = (e: unknown, constraint: string) =>
  (e as { code?: string; constraint?: string }).code === '23505' && (e as { constraint?: string }).constraint === constraint;

/**
 * startSpecPhase: validates, then creates the run and queues discovery in one transaction. The same
 * idempotency key returns the same run; an active run of the same repository and feature is named in
 * a RUN_ACTIVE error (the database's partial unique index decides, so two racing starts cannot both win).
 */
export async function startRun(svc: RunServices, input: StartInput): Promise<{ run: Run | null; userErrors: UserErrorData[] }> {
  if (input.idempotencyKey) {
    const existing = await runByIdempotencyKey(svc.db, input.idempotencyKey);
    if (existing) return { run: existing, userErrors: [] };
  }
  const credentialSet = isUuid(input.credentialSetId) ? await svc.ds.getRepository(CredentialSet).findOneBy({ id: input.credentialSetId }) : null;
  const userErrors = validate(input, credentialSet);
  if (userErrors.length) return { run: null, userErrors };

  const featureId = input.featureId ?? null;
  try {
    const { runId, version } = await inTransaction(svc.db, (tx) =>
      createRun(tx, svc.boss, {
        repository: input.repository,
        featureId,
        baseBranch: input.baseBranch ?? 'main',
        credentialSetId: credentialSet!.id,
        codexEnvironment: input.codexEnvironment ?? credentialSet!.codexEnvironment,
        codexBestOfN: input.bestOfN ?? 1,
        idempotencyKey: input.idempotencyKey ?? null,
        sandbox: credentialSet!.sandbox,
        retryOf: null,
        stack: input.stack === true,
        phaseRequest: input.phaseId ?? null,
        confirmRedo: input.confirmRedo === true,
        notes: input.notes ?? null,
      }),
    );
    await announce(svc.db, runId, version);
    return { run: await getRun(svc.db, runId), userErrors: [] };
  } catch (e) {
    if (isUniqueViolation(e, 'spec_workflow_run_idempotency_key_key')) {
      return { run: await runByIdempotencyKey(svc.db, input.idempotencyKey!), userErrors: [] };
    }
    if (isUniqueViolation(e, 'spec_workflow_run_active_feature')) {
      const active = await activeRunOf(svc.db, input.repository, featureId);
      return {
        run: null,
        userErrors: [
          {
            code: UserErrorCode.RUN_ACTIVE,
            field: 'featureId',
            message: `Run ${active ?? '(just finished)'} is already working on ${input.repository} ${featureId ?? '(feature from .specify/feature.json)'}; wait for it or cancel it.`,
          },
        ],
      };
    }
    throw e;
  }
}
