import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Capacity (issue 13): how many Codex tasks a credential set may have in flight, the slots that count
 * them, pauses every process sharing a credential obeys (Codex per credential set, GitHub per token),
 * and why each step attempt waits.
 */
export class Capacity1764200000000 implements MigrationInterface {
  name = 'Capacity1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE credential_set ADD COLUMN max_concurrent_codex_tasks int NOT NULL DEFAULT 3
        CHECK (max_concurrent_codex_tasks BETWEEN 1 AND 1000);

      -- A run holds one from the moment SUBMIT creates its Codex task until APPLY sees the task finish
      -- (or the run ends): the count per credential set is the limit's measure, across all processes.
      CREATE TABLE codex_slot (
        run_id uuid PRIMARY KEY REFERENCES spec_workflow_run(id) ON DELETE CASCADE,
        credential_set_id uuid NOT NULL REFERENCES credential_set(id) ON DELETE CASCADE,
        taken_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX codex_slot_set ON codex_slot (credential_set_id);

      -- What every process using one credential obeys together: 'codex:<credential set id>' pauses new
      -- submits after a 429 or a spent usage window; 'github:<sha256 of token>' holds GitHub's primary and
      -- secondary limits and the spacing between mutations.
      CREATE TABLE credential_limit (
        key text PRIMARY KEY,
        blocked_until timestamptz,
        reason text,
        last_mutation_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TYPE wait_reason AS ENUM ('CODEX_CAPACITY', 'CODEX_RATE_LIMITED', 'GITHUB_RATE_LIMITED',
        'CODEX_TASK_RUNNING', 'RETRY_BACKOFF', 'WORKER_BUSY');
      ALTER TABLE step_attempt
        ADD COLUMN wait_reason wait_reason,
        ADD COLUMN wait_since timestamptz,
        ADD COLUMN wait_until timestamptz,
        ADD COLUMN wait_message text,
        ADD COLUMN wait_key text;
      -- The line for a Codex slot: waiting attempts of one credential set in order of arrival.
      CREATE INDEX step_attempt_waiting ON step_attempt (wait_reason, wait_key, wait_since) WHERE wait_reason IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX step_attempt_waiting;
      ALTER TABLE step_attempt DROP COLUMN wait_reason, DROP COLUMN wait_since, DROP COLUMN wait_until,
        DROP COLUMN wait_message, DROP COLUMN wait_key;
      DROP TYPE wait_reason;
      DROP TABLE credential_limit;
      DROP TABLE codex_slot;
      ALTER TABLE credential_set DROP COLUMN max_concurrent_codex_tasks;
    `);
  }
}
