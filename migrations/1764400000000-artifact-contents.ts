import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Artifacts in PostgreSQL (issue 14): every machine that shares the database can serve and use them.
 * Contents are kept in chunks, written in the transaction that records the artifact, so a row never
 * points at nothing; a growing log gains a chunk per poll instead of being rewritten. Files of an older
 * local artifact folder are imported by `migrate` (src/runs/artifacts.ts: importArtifactFiles).
 */
export class ArtifactContents1764400000000 implements MigrationInterface {
  name = 'ArtifactContents1764400000000';
  // ALTER TYPE … ADD VALUE cannot be used by later statements of the same transaction: keep it alone.
  transaction = false as const;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TYPE failure_code ADD VALUE IF NOT EXISTS 'ARTIFACT_TOO_LARGE'`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS artifact_chunk (
        artifact_id uuid NOT NULL REFERENCES workflow_artifact(id) ON DELETE CASCADE,
        seq int NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (artifact_id, seq)
      );
      -- Which rows hold their contents here (outside URLs have none; rows of an old folder until imported).
      ALTER TABLE workflow_artifact ADD COLUMN IF NOT EXISTS stored boolean NOT NULL DEFAULT false;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE artifact_chunk; ALTER TABLE workflow_artifact DROP COLUMN stored;`);
  }
}
