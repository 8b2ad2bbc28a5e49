import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { RetryMode } from './enums.js';
import { UserError } from './payloads.js';
import { SpecWorkflowRunType } from './run.js';

@InputType({ description: 'What MoonMind sends to run the next Spec Kit phase of a feature.' })
export class StartSpecPhaseInput {
  @Field({ description: 'GitHub repository, owner/name.' }) repository: string;
  @Field(() => String, { nullable: true, description: 'Spec Kit feature id (001-name); default: .specify/feature.json.' })
  featureId?: string | null;
  @Field(() => String, { nullable: true, defaultValue: 'main' }) baseBranch?: string | null;
  @Field(() => ID) credentialSetId: string;
  @Field(() => String, { nullable: true, description: 'Codex Cloud environment id or label; default: the credential set\'s.' })
  codexEnvironment?: string | null;
  @Field(() => Int, { nullable: true, defaultValue: 1, description: 'How many solutions Codex works out (best-of-N), 1 to 4.' })
  bestOfN?: number | null;
  @Field(() => String, { nullable: true, description: 'The same key returns the same run instead of starting another.' })
  idempotencyKey?: string | null;
  @Field(() => Boolean, {
    nullable: true,
    description: 'Work on the phase after the newest one in review, on top of its branch; the pull request goes against that branch.',
  })
  stack?: boolean | null;
  @Field(() => String, { nullable: true, description: 'Run this phase (its id in tasks.md) instead of the next open one; in review, it is revised.' })
  phaseId?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Needed (true) to run a phaseId whose tasks are all done again.' })
  confirmRedo?: boolean | null;
  @Field(() => String, { nullable: true, description: 'Notes for Codex; on a phase in review they revise its pull request with a new commit.' })
  notes?: string | null;
}

@ObjectType()
export class StartSpecPhasePayload {
  @Field(() => SpecWorkflowRunType, { nullable: true }) run: SpecWorkflowRunType | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@InputType()
export class RetryRunInput {
  @Field(() => ID) runId: string;
  @Field(() => RetryMode) mode: RetryMode;
  @Field(() => Boolean, { nullable: true, description: 'Required (true) for RESTART, which submits a new Codex task.' })
  confirmRestart?: boolean | null;
  @Field(() => String, {
    nullable: true,
    description: 'RESUME of NO_DIFF, CODEX_TASK_FAILED or MERGE_CONFLICT: submitted to Codex with the phase and its last message, as a new task of this run.',
  })
  notes?: string | null;
}

@ObjectType()
export class RetryRunPayload {
  @Field(() => SpecWorkflowRunType, { nullable: true, description: 'RESUME: the same run; RESTART: the new run.' })
  run: SpecWorkflowRunType | null;
  @Field(() => [UserError]) userErrors: UserError[];
}

@InputType()
export class CancelRunInput {
  @Field(() => ID) runId: string;
  @Field(() => String, { nullable: true }) reason?: string | null;
}

@ObjectType()
export class CancelRunPayload {
  @Field(() => SpecWorkflowRunType, { nullable: true }) run: SpecWorkflowRunType | null;
  @Field(() => [UserError]) userErrors: UserError[];
}
