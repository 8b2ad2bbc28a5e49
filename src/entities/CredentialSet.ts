import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { FailureCode } from '../interfaces.js';

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

  @Column({ name: 'github_token_ref', type: 'text' })
  githubTokenRef: string;

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
