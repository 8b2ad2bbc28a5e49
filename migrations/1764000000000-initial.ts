import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The run, its steps, its event log, credential sets and artifacts. */
export class Initial1764000000000 implements MigrationInterface {
  name = 'Initial1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TYPE run_status AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'NO_WORK', 'FAILED', 'CANCELLED');
      CREATE TYPE step_name AS ENUM ('DISCOVER', 'SUBMIT', 'APPLY', 'PUBLISH', 'FINALIZE');
      CREATE TYPE step_state_name AS ENUM
        ('PENDING', 'QUEUED', 'RUNNING', 'WAITING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED');
      CREATE TYPE artifact_kind AS ENUM ('CODEX_TASK', 'CODEX_LOG', 'PATCH', 'CONFLICT_REPORT', 'APPLY_OUTPUT',
        'BRANCH', 'COMMIT', 'PULL_REQUEST', 'RETRY_CONTEXT', 'PROMPT', 'SUMMARY');

      CREATE TABLE credential_set (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        codex_auth_ref text NOT NULL,
        github_token_ref text NOT NULL,
        codex_environment text,
        repositories text[] NOT NULL DEFAULT '{}',
        sandbox boolean NOT NULL DEFAULT false,
        validated_at timestamptz,
        validation_issues jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT credential_set_name_key UNIQUE (name)
      );

      CREATE TABLE spec_workflow_run (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        repository text NOT NULL,
        feature_id text,
        base_branch text NOT NULL,
        tasks_path text,
        phase jsonb,
        status run_status NOT NULL,
        current_step step_name,
        idempotency_key text,
        credential_set_id uuid NOT NULL REFERENCES credential_set(id) ON DELETE RESTRICT,
        codex_environment text,
        model text,
        codex_attempts int NOT NULL DEFAULT 1 CHECK (codex_attempts BETWEEN 1 AND 4),
        sandbox boolean NOT NULL DEFAULT false,
        base_sha text,
        codex_task_id text,
        codex_task_url text,
        branch text,
        commit_sha text,
        pull_request_number int,
        pull_request_url text,
        failure_code text,
        failure_step step_name,
        failure_message text,
        failure_remediation text,
        failure_resumable boolean,
        status_message text,
        version int NOT NULL DEFAULT 0,
        retry_of uuid REFERENCES spec_workflow_run(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        CONSTRAINT spec_workflow_run_idempotency_key_key UNIQUE (idempotency_key)
      );
      -- One active run per repository and feature: the database, not a race-prone check, says RUN_ACTIVE.
      CREATE UNIQUE INDEX spec_workflow_run_active_feature
        ON spec_workflow_run (repository, coalesce(feature_id, ''))
        WHERE status IN ('QUEUED', 'RUNNING');
      -- The runs(...) list: newest first, optionally filtered.
      CREATE INDEX spec_workflow_run_created ON spec_workflow_run (created_at DESC, id DESC);
      CREATE INDEX spec_workflow_run_status_created ON spec_workflow_run (status, created_at DESC, id DESC);
      CREATE INDEX spec_workflow_run_repository_created ON spec_workflow_run (repository, created_at DESC, id DESC);
      CREATE INDEX spec_workflow_run_feature_created ON spec_workflow_run (feature_id, created_at DESC, id DESC);
      CREATE INDEX spec_workflow_run_retry_of ON spec_workflow_run (retry_of) WHERE retry_of IS NOT NULL;

      CREATE TABLE step_state (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        run_id uuid NOT NULL REFERENCES spec_workflow_run(id) ON DELETE CASCADE,
        step step_name NOT NULL,
        attempt int NOT NULL,
        state step_state_name NOT NULL,
        job_id text,
        worker_id text,
        tries int NOT NULL DEFAULT 0,
        queued_at timestamptz,
        started_at timestamptz,
        finished_at timestamptz,
        heartbeat_at timestamptz,
        next_attempt_at timestamptz,
        message text,
        payload jsonb,
        error jsonb,
        CONSTRAINT step_state_run_step_attempt_key UNIQUE (run_id, step, attempt)
      );

      CREATE TABLE run_event (
        id bigserial PRIMARY KEY,
        run_id uuid NOT NULL REFERENCES spec_workflow_run(id) ON DELETE CASCADE,
        version int NOT NULL,
        step step_name,
        attempt int,
        from_state text,
        to_state text NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        payload jsonb NOT NULL DEFAULT '{}',
        CONSTRAINT run_event_run_version_key UNIQUE (run_id, version)
      );

      CREATE TABLE workflow_artifact (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        run_id uuid NOT NULL REFERENCES spec_workflow_run(id) ON DELETE CASCADE,
        step step_name NOT NULL,
        attempt int NOT NULL,
        kind artifact_kind NOT NULL,
        location text NOT NULL,
        content_type text,
        sha256 text,
        size bigint,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX workflow_artifact_run ON workflow_artifact (run_id, created_at);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE workflow_artifact; DROP TABLE run_event; DROP TABLE step_state;
      DROP TABLE spec_workflow_run; DROP TABLE credential_set;
      DROP TYPE artifact_kind; DROP TYPE step_state_name; DROP TYPE step_name; DROP TYPE run_status;
    `);
  }
}
