import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { CommitVia, type FailureCode } from '../interfaces.js';

export interface CredentialIssue {
  ref: string;
  code: FailureCode;
  message: string;
}

/** References to the secrets a run uses (`env:NAME`, `file:/path`); never the secret values. */
@Entity('credential_set')
export class CredentialSet {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'name', type: 'text' })
  name: string;

  /** A ChatGPT auth.json or a Codex access token (`at-…`). */
  @Column({ name: 'codex_auth_ref', type: 'text' })
  codexAuthRef: string;

  /** A GitHub token; null when the set uses a GitHub App instead. */
  @Column({ name: 'github_token_ref', type: 'text', nullable: true })
  githubTokenRef: string | null;

  /** The GitHub App whose installation tokens the set uses (with the private key below), instead of a token. */
  @Column({ name: 'github_app_id', type: 'text', nullable: true })
  githubAppId: string | null;

  /** The App's installation; null: looked up from the repository (GET /repos/{owner}/{repo}/installation). */
  @Column({ name: 'github_app_installation_id', type: 'text', nullable: true })
  githubAppInstallationId: string | null;

  /** The App's private key (PEM). */
  @Column({ name: 'github_app_private_key_ref', type: 'text', nullable: true })
  githubAppPrivateKeyRef: string | null;

  @Column({ name: 'commit_via', type: 'text', default: CommitVia.GIT })
  commitVia: CommitVia;

  /** With commitVia API: push with git when the change holds what the API cannot express, instead of failing. */
  @Column({ name: 'commit_fallback_to_git', type: 'boolean', default: false })
  commitFallbackToGit: boolean;

  /** Default Codex Cloud environment (id or label) for runs that do not name one. */
  @Column({ name: 'codex_environment', type: 'text', nullable: true })
  codexEnvironment: string | null;

  /** The GitHub repositories (`owner/name`) this set is meant for; empty means any. */
  @Column({ name: 'repositories', type: 'text', array: true, default: () => "'{}'" })
  repositories: string[];

  @Column({ name: 'sandbox', type: 'boolean', default: false })
  sandbox: boolean;

  /** How many of this set's Codex tasks may be in flight at once, across every worker. */
  @Column({ name: 'max_concurrent_codex_tasks', type: 'int', default: 3 })
  maxConcurrentCodexTasks: number;

  @Column({ name: 'validated_at', type: 'timestamptz', nullable: true })
  validatedAt: Date | null;

  @Column({ name: 'validation_issues', type: 'jsonb', default: () => "'[]'" })
  validationIssues: CredentialIssue[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** The secret reference a set's GitHub calls use: the token, or the App's private key. */
export function githubSecretRef(set: Pick<CredentialSet, 'githubTokenRef' | 'githubAppPrivateKeyRef'>): string {
  return set.githubTokenRef ?? set.githubAppPrivateKeyRef ?? '';
}
