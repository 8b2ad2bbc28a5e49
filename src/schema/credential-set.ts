import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { CommitVia, FailureCode } from './enums.js';
import { UserError } from './payloads.js';

@ObjectType('CredentialIssue')
export class CredentialIssueType {
  @Field({ description: 'The secret reference to fix.' }) ref: string;
  @Field(() => FailureCode) code: FailureCode;
  @Field() message: string;
}

@ObjectType('CredentialSet', { description: 'References to the secrets a run uses; secret values are never returned.' })
export class CredentialSetType {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field({ description: 'env:NAME or file:/path of a ChatGPT auth.json or a Codex access token (at-…).' }) codexAuthRef: string;
  @Field(() => String, { nullable: true, description: 'env:NAME or file:/path of a GitHub token; null when the set uses a GitHub App.' })
  githubTokenRef: string | null;
  @Field(() => String, { nullable: true, description: 'The GitHub App whose installation tokens the set uses instead of a token.' })
  githubAppId: string | null;
  @Field(() => String, { nullable: true, description: "The App's installation id; null: looked up from the repository." })
  githubAppInstallationId: string | null;
  @Field(() => String, { nullable: true, description: "env:NAME or file:/path of the App's private key (PEM)." })
  githubAppPrivateKeyRef: string | null;
  @Field(() => CommitVia, { description: 'How publish makes the phase commit: GIT pushes it, API has GitHub create it (signed, Verified).' })
  commitVia: CommitVia;
  @Field({ description: 'With commitVia API: push with git a change the API cannot express (modes, symlinks, submodules, size) instead of failing.' })
  commitFallbackToGit: boolean;
  @Field(() => String, { nullable: true }) codexEnvironment: string | null;
  @Field(() => [String], { description: 'owner/name repositories this set is for; empty means any.' }) repositories: string[];
  @Field() sandbox: boolean;
  @Field(() => Int, { description: 'How many of this set\'s Codex tasks may be in flight at once, across every worker; more runs wait at SUBMIT in order.' })
  maxConcurrentCodexTasks: number;
  @Field(() => Date, { nullable: true }) validatedAt: Date | null;
  @Field(() => [CredentialIssueType]) validationIssues: CredentialIssueType[];
  @Field() createdAt: Date;
  @Field() updatedAt: Date;
}

@InputType()
export class CreateCredentialSetInput {
  @Field() name: string;
  @Field() codexAuthRef: string;
  @Field(() => String, { nullable: true, description: 'A GitHub token; or give githubAppId and githubAppPrivateKeyRef.' }) githubTokenRef?: string | null;
  @Field(() => String, { nullable: true }) githubAppId?: string | null;
  @Field(() => String, { nullable: true }) githubAppInstallationId?: string | null;
  @Field(() => String, { nullable: true }) githubAppPrivateKeyRef?: string | null;
  @Field(() => CommitVia, { nullable: true, description: 'GIT by default.' }) commitVia?: CommitVia | null;
  @Field(() => Boolean, { nullable: true }) commitFallbackToGit?: boolean | null;
  @Field(() => String, { nullable: true }) codexEnvironment?: string | null;
  @Field(() => [String], { nullable: true }) repositories?: string[] | null;
  @Field(() => Int, { nullable: true, description: 'Codex tasks in flight at once (default 3).' }) maxConcurrentCodexTasks?: number | null;
}

@InputType()
export class UpdateCredentialSetInput {
  @Field(() => ID) id: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) codexAuthRef?: string | null;
  @Field(() => String, { nullable: true, description: 'Switches the set to this token (dropping its App).' }) githubTokenRef?: string | null;
  @Field(() => String, { nullable: true, description: 'Switches the set to this App (dropping its token).' }) githubAppId?: string | null;
  @Field(() => String, { nullable: true }) githubAppInstallationId?: string | null;
  @Field(() => String, { nullable: true }) githubAppPrivateKeyRef?: string | null;
  @Field(() => CommitVia, { nullable: true }) commitVia?: CommitVia | null;
  @Field(() => Boolean, { nullable: true }) commitFallbackToGit?: boolean | null;
  @Field(() => String, { nullable: true }) codexEnvironment?: string | null;
  @Field(() => [String], { nullable: true }) repositories?: string[] | null;
  @Field(() => Int, { nullable: true }) maxConcurrentCodexTasks?: number | null;
}

@ObjectType()
export class CredentialSetPayload {
  @Field(() => CredentialSetType, { nullable: true }) credentialSet: CredentialSetType | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@ObjectType()
export class DeleteCredentialSetPayload {
  @Field(() => ID, { nullable: true }) deletedId: string | null;
  @Field(() => [UserError]) userErrors: UserError[];
}
