import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Hostile input (issue 10): a tasks.md beyond the reader's limits or budget fails a run as SPEC_TOO_COMPLEX. */
export class SpecTooComplex1764410000000 implements MigrationInterface {
  name = 'SpecTooComplex1764410000000';
  // ALTER TYPE … ADD VALUE cannot be used by later statements of the same transaction: keep it alone.
  transaction = false as const;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TYPE failure_code ADD VALUE IF NOT EXISTS 'SPEC_TOO_COMPLEX' AFTER 'SPEC_INVALID'`);
  }

  async down(): Promise<void> {
    // PostgreSQL cannot drop a value from an enum; an unused value is harmless.
  }
}
