import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Phases in review (issue 12): a run can end IN_REVIEW, stack on the newest phase branch in review, be
 * asked for one phase, and carry an operator's notes to Codex (kept with the SUBMIT attempt they went to).
 */
export class Review1764300000000 implements MigrationInterface {
  name = 'Review1764300000000';
  // ALTER TYPE … ADD VALUE cannot be used by later statements of the same transaction: keep it alone.
  transaction = false as const;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TYPE run_status ADD VALUE IF NOT EXISTS 'IN_REVIEW' AFTER 'NO_WORK'`);
    for (const code of ['PHASE_NOT_FOUND', 'PHASE_DONE', 'BASE_MOVED']) {
      await q.query(`ALTER TYPE failure_code ADD VALUE IF NOT EXISTS '${code}'`);
    }
    await q.query(`
      ALTER TABLE spec_workflow_run
        ADD COLUMN root_branch text,
        ADD COLUMN stack boolean NOT NULL DEFAULT false,
        ADD COLUMN phase_request text,
        ADD COLUMN confirm_redo boolean NOT NULL DEFAULT false,
        ADD COLUMN notes text,
        ADD COLUMN stacked_on jsonb,
        ADD COLUMN revision jsonb;
      UPDATE spec_workflow_run SET root_branch = base_branch WHERE root_branch IS NULL;
      ALTER TABLE spec_workflow_run ALTER COLUMN root_branch SET NOT NULL;
      ALTER TABLE step_attempt ADD COLUMN notes text;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE step_attempt DROP COLUMN notes;
      ALTER TABLE spec_workflow_run DROP COLUMN root_branch, DROP COLUMN stack, DROP COLUMN phase_request,
        DROP COLUMN confirm_redo, DROP COLUMN notes, DROP COLUMN stacked_on, DROP COLUMN revision;
    `);
  }
}
