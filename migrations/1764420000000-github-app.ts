import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GitHub App credentials and verified commits (issue 17): a credential set holds either a token or an
 * App (id, installation, private key reference), and says how publish makes its commit. Installation
 * tokens are kept in github_app_token sealed with a key derived from the App's private key, which the
 * database never holds, so every worker shares one token without the database holding a usable secret.
 */
export class GitHubApp1764420000000 implements MigrationInterface {
  name = 'GitHubApp1764420000000';
  // ALTER TYPE … ADD VALUE cannot be used by later statements of the same transaction: keep it alone.
  transaction = false as const;

  async up(q: QueryRunner): Promise<void> {
    for (const code of ['GITHUB_APP_NOT_INSTALLED', 'API_COMMIT_UNSUPPORTED']) {
      await q.query(`ALTER TYPE failure_code ADD VALUE IF NOT EXISTS '${code}'`);
    }
    await q.query(`
      ALTER TABLE credential_set
        ALTER COLUMN github_token_ref DROP NOT NULL,
        ADD COLUMN github_app_id text,
        ADD COLUMN github_app_installation_id text,
        ADD COLUMN github_app_private_key_ref text,
        ADD COLUMN commit_via text NOT NULL DEFAULT 'GIT' CHECK (commit_via IN ('GIT', 'API')),
        ADD COLUMN commit_fallback_to_git boolean NOT NULL DEFAULT false,
        ADD CONSTRAINT credential_set_github_credential CHECK (
          (github_token_ref IS NOT NULL) <> (github_app_id IS NOT NULL AND github_app_private_key_ref IS NOT NULL)
        );
      CREATE TABLE github_app_token (
        key text PRIMARY KEY,
        sealed text NOT NULL,
        expires_at timestamptz NOT NULL,
        minted_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE github_app_token;
      DELETE FROM credential_set WHERE github_token_ref IS NULL;
      ALTER TABLE credential_set
        DROP CONSTRAINT credential_set_github_credential,
        DROP COLUMN github_app_id, DROP COLUMN github_app_installation_id, DROP COLUMN github_app_private_key_ref,
        DROP COLUMN commit_via, DROP COLUMN commit_fallback_to_git,
        ALTER COLUMN github_token_ref SET NOT NULL;
    `);
  }
}
