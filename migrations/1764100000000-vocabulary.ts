import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One vocabulary (issue 15): the step attempt row is `step_attempt`; states, artifact kinds and failure
 * codes are enums (PENDING and COMMIT, never written, are gone); Codex best-of-N has its own name; the
 * `model` input, which the Codex Cloud task API has no field for, is dropped; each try holds a claim.
 */
export class Vocabulary1764100000000 implements MigrationInterface {
  name = 'Vocabulary1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE step_state RENAME TO step_attempt;
      ALTER TABLE step_attempt RENAME CONSTRAINT step_state_run_step_attempt_key TO step_attempt_run_step_attempt_key;
      ALTER TABLE step_attempt RENAME CONSTRAINT step_state_pkey TO step_attempt_pkey;
      ALTER TABLE step_attempt ADD COLUMN claim uuid;

      CREATE TYPE step_state AS ENUM ('QUEUED', 'RUNNING', 'WAITING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED');
      UPDATE step_attempt SET state = 'QUEUED' WHERE state = 'PENDING';
      ALTER TABLE step_attempt ALTER COLUMN state TYPE step_state USING state::text::step_state;
      DROP TYPE step_state_name;

      ALTER TYPE artifact_kind RENAME TO artifact_kind_old;
      CREATE TYPE artifact_kind AS ENUM ('CODEX_TASK', 'CODEX_LOG', 'PATCH', 'CONFLICT_REPORT', 'APPLY_OUTPUT',
        'BRANCH', 'PULL_REQUEST', 'RETRY_CONTEXT', 'PROMPT', 'SUMMARY');
      DELETE FROM workflow_artifact WHERE kind = 'COMMIT';
      ALTER TABLE workflow_artifact ALTER COLUMN kind TYPE artifact_kind USING kind::text::artifact_kind;
      DROP TYPE artifact_kind_old;

      CREATE TYPE failure_code AS ENUM ('SPEC_INVALID', 'FEATURE_NOT_FOUND', 'REPOSITORY_UNAVAILABLE', 'CREDENTIALS_MISSING',
        'CREDENTIALS_INVALID', 'CREDENTIALS_EXPIRED', 'PERMISSION_DENIED', 'CODEX_ENVIRONMENT_NOT_FOUND',
        'CODEX_ENVIRONMENT_AMBIGUOUS', 'CODEX_REQUEST_REJECTED', 'CODEX_TASK_FAILED', 'CODEX_TIMEOUT', 'NO_DIFF',
        'MERGE_CONFLICT', 'PATCH_FAILED', 'PATCH_UNSAFE', 'PUSH_REJECTED', 'GITHUB_REJECTED', 'RATE_LIMITED',
        'SERVICE_UNAVAILABLE', 'WORKER_LOST', 'INTERNAL');
      ALTER TABLE spec_workflow_run ALTER COLUMN failure_code TYPE failure_code USING failure_code::failure_code;

      ALTER TABLE spec_workflow_run RENAME COLUMN codex_attempts TO codex_best_of_n;
      ALTER TABLE spec_workflow_run DROP COLUMN model;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE spec_workflow_run ADD COLUMN model text;
      ALTER TABLE spec_workflow_run RENAME COLUMN codex_best_of_n TO codex_attempts;
      ALTER TABLE spec_workflow_run ALTER COLUMN failure_code TYPE text;
      DROP TYPE failure_code;
      ALTER TYPE artifact_kind ADD VALUE 'COMMIT';
      CREATE TYPE step_state_name AS ENUM ('PENDING', 'QUEUED', 'RUNNING', 'WAITING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED');
      ALTER TABLE step_attempt ALTER COLUMN state TYPE step_state_name USING state::text::step_state_name;
      DROP TYPE step_state;
      ALTER TABLE step_attempt DROP COLUMN claim;
      ALTER TABLE step_attempt RENAME CONSTRAINT step_attempt_pkey TO step_state_pkey;
      ALTER TABLE step_attempt RENAME CONSTRAINT step_attempt_run_step_attempt_key TO step_state_run_step_attempt_key;
      ALTER TABLE step_attempt RENAME TO step_state;
    `);
  }
}
