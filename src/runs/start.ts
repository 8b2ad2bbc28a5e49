import type { DataSource } from 'typeorm';
import { REPOSITORY, type UserErrorData } from '../credential-sets/store.js';
import { bossDb, inTransaction, type Tx } from '../db/transaction.js';
import { CredentialSet, SpecWorkflowRun } from '../entities/index.js';
import { RunStatus, Step, StepState } from '../interfaces.js';
import { QUEUE } from '../jobs/boss.js';
import type { PgBoss } from 'pg-boss';
import { isValidFeatureId } from '../speckit/index.js';
import { announce } from './events.js';
import { getRun } from './queries.js';
import { moveRun, moveStep } from './transitions.js';

export interface StartInput {
  repository: string;
  featureId?: string | null;
  baseBranch?: string | null;
  credentialSetId: string;
  codexEnvironment?: string | null;
  model?: string | null;
  attempts?: number | null;
  idempotencyKey?: string | null;
}

/** What a step job carries: the run and the step's attempt. Everything else is read from the database. */
export interface StepJob {
  runId: string;
  step: Step;
  attempt: number;
}

// git check-ref-format, simplified to what a branch name given by a client may contain.
const BRANCH = /^(?!\/|.*\/\/|.*\.\.|.*@\{|.*\.lock$|.*\/$|.*\.$)[^\x00-\x20~^:?*[\\\x7f]{1,255}$/;

function validate(input: StartInput, credentialSet: CredentialSet | null): UserErrorData[] {
  const errors: UserErrorData[] = [];
  if (!REPOSITORY.test(input.repository)) {
    errors.push({ code: 'INVALID_REPOSITORY', field: 'repository', message: `"${input.repository}" is not a GitHub owner/name.` });
  }
  if (input.featureId != null && !isValidFeatureId(input.featureId)) {
    errors.push({
      code: 'INVALID_FEATURE_ID',
      field: 'featureId',
      message: `"${input.featureId}" is not a Spec Kit feature id (<number>-<kebab-name>, e.g. 001-user-auth, or YYYYMMDD-HHMMSS-<name>).`,
    });
  }
  if (input.baseBranch != null && !BRANCH.test(input.baseBranch)) {
    errors.push({ code: 'INVALID_BRANCH', field: 'baseBranch', message: `"${input.baseBranch}" is not a valid branch name.` });
  }
  if (input.attempts != null && (!Number.isInteger(input.attempts) || input.attempts < 1 || input.attempts > 4)) {
    errors.push({ code: 'INVALID_ATTEMPTS', field: 'attempts', message: 'attempts must be 1 to 4 (Codex best-of-N).' });
  }
  if (input.idempotencyKey != null && (input.idempotencyKey.length < 1 || input.idempotencyKey.length > 200)) {
    errors.push({ code: 'INVALID_IDEMPOTENCY_KEY', field: 'idempotencyKey', message: 'idempotencyKey must be 1 to 200 characters.' });
  }
  if (!credentialSet) {
    errors.push({ code: 'UNKNOWN_CREDENTIAL_SET', field: 'credentialSetId', message: `No credential set ${input.credentialSetId}.` });
  } else {
    if (credentialSet.repositories.length && !credentialSet.repositories.includes(input.repository)) {
      errors.push({
        code: 'CREDENTIAL_SET_NOT_FOR_REPOSITORY',
        field: 'credentialSetId',
        message: `Credential set "${credentialSet.name}" is for ${credentialSet.repositories.join(', ')}, not ${input.repository}.`,
      });
    }
    if (!input.codexEnvironment && !credentialSet.codexEnvironment) {
      errors.push({
        code: 'CODEX_ENVIRONMENT_REQUIRED',
        field: 'codexEnvironment',
        message: `Name a Codex Cloud environment (id or label): credential set "${credentialSet.name}" has no default.`,
      });
    }
  }
  return errors;
}

/** Queues a step attempt: state QUEUED, event, and its job sent inside the same transaction. */
export async function enqueueStep(
  tx: Tx,
  boss: PgBoss,
  runId: string,
  step: Step,
  attempt: number,
  options: { startAfter?: Date; state?: StepState; message?: string; payload?: Record<string, unknown> } = {},
): Promise<number> {
  const job: StepJob = { runId, step, attempt };
  const jobId = await boss.send(QUEUE[step], job, { db: bossDb(tx), ...(options.startAfter ? { startAfter: options.startAfter } : {}) });
  return moveStep(
    tx,
    runId,
    step,
    attempt,
    options.state ?? StepState.QUEUED,
    { jobId, nextAttemptAt: options.startAfter ?? null, message: options.message, payload: options.payload },
    { jobId },
  );
}

/** Inserts a run and its first step job in one transaction; returns its id. */
export async function createRun(
  tx: Tx,
  boss: PgBoss,
  values: {
    repository: string;
    featureId: string | null;
    baseBranch: string;
    credentialSetId: string;
    codexEnvironment: string | null;
    model: string | null;
    codexAttempts: number;
    idempotencyKey: string | null;
    sandbox: boolean;
    retryOf: string | null;
  },
): Promise<{ runId: string; version: number }> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO spec_workflow_run (repository, feature_id, base_branch, credential_set_id, codex_environment, model,
       codex_attempts, idempotency_key, sandbox, retry_of, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'QUEUED') RETURNING id`,
    [values.repository, values.featureId, values.baseBranch, values.credentialSetId, values.codexEnvironment, values.model,
      values.codexAttempts, values.idempotencyKey, values.sandbox, values.retryOf],
  );
  const runId = rows[0]!.id;
  await moveRun(tx, { id: runId, status: null }, RunStatus.QUEUED, {}, {
    sandbox: values.sandbox,
    ...(values.retryOf ? { retryOf: values.retryOf } : {}),
  });
  const version = await enqueueStep(tx, boss, runId, Step.DISCOVER, 1);
  return { runId, version };
}

/** The active run (QUEUED or RUNNING) of a repository and feature, if any. */
async function activeRun(ds: DataSource, repository: string, featureId: string | null): Promise<string | null> {
  const rows: { id: string }[] = await ds.query(
    `SELECT id FROM spec_workflow_run WHERE repository = $1 AND coalesce(feature_id, '') = coalesce($2, '')
       AND status IN ('QUEUED', 'RUNNING') LIMIT 1`,
    [repository, featureId],
  );
  return rows[0]?.id ?? null;
}

const isUniqueViolation = (e: unknown, constraint: string) =>
  (e as { code?: string; constraint?: string }).code === '23505' && (e as { constraint?: string }).constraint === constraint;

/**
 * startSpecPhase: validates, then creates the run and queues discovery in one transaction. The same
 * idempotency key returns the same run; an active run of the same repository and feature is named in
 * a RUN_ACTIVE error (the database's partial unique index decides, so two racing starts cannot both win).
 */
export async function startRun(
  ds: DataSource,
  boss: PgBoss,
  input: StartInput,
): Promise<{ run: SpecWorkflowRun | null; userErrors: UserErrorData[] }> {
  if (input.idempotencyKey) {
    const existing = await ds.getRepository(SpecWorkflowRun).findOneBy({ idempotencyKey: input.idempotencyKey });
    if (existing) return { run: existing, userErrors: [] };
  }
  const credentialSet = /^[0-9a-f-]{36}$/i.test(input.credentialSetId)
    ? await ds.getRepository(CredentialSet).findOneBy({ id: input.credentialSetId })
    : null;
  const userErrors = validate(input, credentialSet);
  if (userErrors.length) return { run: null, userErrors };

  const featureId = input.featureId ?? null;
  try {
    const { runId, version } = await inTransaction(ds, (tx) =>
      createRun(tx, boss, {
        repository: input.repository,
        featureId,
        baseBranch: input.baseBranch ?? 'main',
        credentialSetId: credentialSet!.id,
        codexEnvironment: input.codexEnvironment ?? credentialSet!.codexEnvironment,
        model: input.model ?? null,
        codexAttempts: input.attempts ?? 1,
        idempotencyKey: input.idempotencyKey ?? null,
        sandbox: credentialSet!.sandbox,
        retryOf: null,
      }),
    );
    await announce(ds, runId, version);
    return { run: await getRun(ds, runId), userErrors: [] };
  } catch (e) {
    if (isUniqueViolation(e, 'spec_workflow_run_idempotency_key_key')) {
      return { run: await ds.getRepository(SpecWorkflowRun).findOneBy({ idempotencyKey: input.idempotencyKey! }), userErrors: [] };
    }
    if (isUniqueViolation(e, 'spec_workflow_run_active_feature')) {
      const active = await activeRun(ds, input.repository, featureId);
      return {
        run: null,
        userErrors: [
          {
            code: 'RUN_ACTIVE',
            field: 'featureId',
            message: `Run ${active ?? '(just finished)'} is already working on ${input.repository} ${featureId ?? '(feature from .specify/feature.json)'}; wait for it or cancel it.`,
          },
        ],
      };
    }
    throw e;
  }
}
