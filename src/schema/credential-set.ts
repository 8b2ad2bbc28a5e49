import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { FailureCode } from './enums.js';
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
  @Field({ description: 'env:NAME or file:/path of a GitHub token.' }) githubTokenRef: string;
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
  @Field() githubTokenRef: string;
  @Field(() => String, { nullable: true }) codexEnvironment?: string | null;
  @Field(() => [String], { nullable: true }) repositories?: string[] | null;
  @Field(() => Int, { nullable: true, description: 'Codex tasks in flight at once (default 3).' }) maxConcurrentCodexTasks?: number | null;
}

@InputType()
export class UpdateCredentialSetInput {
  @Field(() => ID) id: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) codexAuthRef?: string | null;
  @Field(() => String, { nullable: true }) githubTokenRef?: string | null;
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
