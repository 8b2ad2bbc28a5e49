import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ArtifactKind, FailureCode, RetryMode, RunStatus, Step, StepState, WaitReason } from './enums.js';
import { JSONObject } from './scalars.js';

@ObjectType({ description: 'A phase heading of tasks.md.' })
export class PhaseRef {
  @Field() id: string;
  @Field() title: string;
  @Field(() => Int) line: number;
}

@ObjectType({ description: 'The phase a run works on, as discovery found it.' })
export class Phase {
  @Field() id: string;
  @Field() title: string;
  @Field(() => Int) line: number;
  @Field(() => PhaseRef, { nullable: true, description: 'The enclosing phase when phases nest.' })
  parent: PhaseRef | null;
  @Field(() => [String]) openTaskIds: string[];
  @Field(() => Int) openTaskCount: number;
  @Field(() => Int) doneTaskCount: number;
}

@ObjectType({ description: 'Why a run or a step waits: the reason, its place in line, since when and until when where known.' })
export class Wait {
  @Field(() => WaitReason) reason: WaitReason;
  @Field(() => Int, { nullable: true, description: 'How many go first (a Codex slot of the credential set, a worker of the step\'s queue); read live.' })
  position: number | null;
  @Field() since: Date;
  @Field(() => Date, { nullable: true, description: 'When the wait ends, where that is known (a rate limit, the next look at a Codex task).' })
  until: Date | null;
  @Field() message: string;
}

@ObjectType('StepAttempt', { description: 'One attempt of one step of a run.' })
export class StepAttemptType {
  @Field(() => Step) step: Step;
  @Field(() => StepState) state: StepState;
  @Field(() => Int) attempt: number;
  @Field(() => Int, { description: 'Times this attempt was picked up by a worker (retries included).' })
  tries: number;
  @Field(() => Date, { nullable: true }) queuedAt: Date | null;
  @Field(() => Date, { nullable: true }) startedAt: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
  @Field(() => Date, { nullable: true }) heartbeatAt: Date | null;
  @Field(() => Date, { nullable: true, description: 'When a RETRYING or WAITING step runs next.' })
  nextAttemptAt: Date | null;
  @Field(() => String, { nullable: true }) message: string | null;
  @Field(() => JSONObject, { nullable: true, description: 'The latest structured payload the step reported.' })
  payload: Record<string, unknown> | null;
  @Field(() => FailureCode, { nullable: true }) errorCode: FailureCode | null;
  @Field(() => String, { nullable: true, description: 'The operator\'s notes this attempt took to Codex.' }) notes: string | null;
  /** The row it was read from (its wait is resolved with a live position); not a field. */
  source: import('../entities/index.js').StepAttempt;
}

@ObjectType()
export class RunOutputs {
  @Field(() => String, { nullable: true }) codexTaskId: string | null;
  @Field(() => String, { nullable: true }) codexTaskUrl: string | null;
  @Field(() => String, { nullable: true }) branch: string | null;
  @Field(() => String, { nullable: true }) commitSha: string | null;
  @Field(() => Int, { nullable: true }) pullRequestNumber: number | null;
  @Field(() => String, { nullable: true }) pullRequestUrl: string | null;
}

@ObjectType({ description: 'Why a run failed and what the operator can do next.' })
export class RunFailure {
  @Field(() => FailureCode) code: FailureCode;
  @Field(() => Step, { nullable: true }) step: Step | null;
  @Field() message: string;
  @Field() remediation: string;
  @Field(() => [RetryMode], { description: 'The retry modes allowed for this failure.' })
  retryModes: RetryMode[];
  @Field({ description: 'Why the retry modes are what they are.' })
  retryAdvice: string;
  @Field({ description: 'RESUME needs notes: the failure is answered by submitting the phase to Codex again with them.' })
  notesRequired: boolean;
}

@ObjectType({ description: 'A pull request a run points at.' })
export class PullRequestLink {
  @Field(() => Int) number: number;
  @Field() url: string;
}

@ObjectType({ description: 'A phase in review under a stacked run.' })
export class StackedPhase {
  @Field() phaseId: string;
  @Field(() => PullRequestLink) pullRequest: PullRequestLink;
}

@ObjectType({ description: 'The phase branch (and its pull request in review) a stacked run builds on.' })
export class StackedOnInfo {
  @Field() phaseId: string;
  @Field() branch: string;
  @Field() headSha: string;
  @Field(() => PullRequestLink) pullRequest: PullRequestLink;
  @Field(() => [StackedPhase], { description: 'The phases in review under it, lowest first.' }) below: StackedPhase[];
}

@ObjectType({ description: 'A generated output kept for the run: patch, log, conflict report, ...' })
export class Artifact {
  @Field(() => ID) id: string;
  @Field(() => ArtifactKind) kind: ArtifactKind;
  @Field(() => Step) step: Step;
  @Field(() => Int) attempt: number;
  @Field({ description: 'Download route (needs a viewer token) or outside URL.' }) url: string;
  @Field(() => String, { nullable: true }) sha256: string | null;
  @Field(() => Int, { nullable: true }) size: number | null;
  @Field(() => String, { nullable: true }) contentType: string | null;
  @Field() createdAt: Date;
}

@ObjectType('RunEvent', { description: 'One transition in a run\'s event log.' })
export class RunEventType {
  @Field(() => Int) version: number;
  @Field(() => Step, { nullable: true }) step: Step | null;
  @Field(() => Int, { nullable: true }) attempt: number | null;
  @Field(() => String, { nullable: true }) from: string | null;
  @Field() to: string;
  @Field() at: Date;
  @Field(() => JSONObject) payload: Record<string, unknown>;
}

@ObjectType('SpecWorkflowRun', { description: 'One invocation: the chain discover → submit → apply → publish → finalize.' })
export class SpecWorkflowRunType {
  @Field(() => ID) id: string;
  @Field(() => RunStatus) status: RunStatus;
  @Field(() => String, { nullable: true }) statusMessage: string | null;
  @Field(() => Step, { nullable: true }) currentStep: Step | null;
  @Field(() => String, { nullable: true }) featureId: string | null;
  @Field() repository: string;
  @Field({ description: 'The branch the run builds on and opens its pull request against (a phase branch when stacked).' }) baseBranch: string;
  @Field({ description: 'The branch the run was asked to start from.' }) rootBranch: string;
  @Field({ description: 'Asked to stack on the newest phase in review.' }) stack: boolean;
  @Field(() => StackedOnInfo, { nullable: true, description: 'What a stacked run builds on.' }) stackedOn: StackedOnInfo | null;
  @Field(() => PullRequestLink, { nullable: true, description: 'The pull request in review this run revises with a new commit.' })
  revises: PullRequestLink | null;
  @Field(() => String, { nullable: true, description: 'The phase asked for by id.' }) phaseRequest: string | null;
  @Field(() => String, { nullable: true, description: 'The notes for Codex given at start.' }) notes: string | null;
  @Field(() => String, { nullable: true }) tasksPath: string | null;
  @Field(() => Int, { description: 'Sequence number of the latest event: 1, 2, 3 … with no gap.' }) version: number;
  @Field({ description: 'True when the run used the local emulators, not Codex Cloud and GitHub.' }) sandbox: boolean;
  @Field(() => String, { nullable: true }) codexEnvironment: string | null;
  @Field(() => Int, { description: 'How many solutions Codex works out for the task (best-of-N).' }) codexBestOfN: number;
  @Field(() => ID) credentialSetId: string;
  @Field(() => Phase, { nullable: true }) phase: Phase | null;
  @Field(() => RunOutputs) outputs: RunOutputs;
  @Field(() => RunFailure, { nullable: true }) failure: RunFailure | null;
  @Field(() => ID, { nullable: true }) retryOf: string | null;
  @Field() createdAt: Date;
  @Field() updatedAt: Date;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
  /** Attempts and artifacts already read (subscriptions read them once for every subscriber); not a field. */
  preloaded?: { attempts: import('../entities/index.js').StepAttempt[]; artifacts: import('../entities/index.js').WorkflowArtifact[] };
}

@ObjectType({ description: 'One message of runUpdated: a transition and the run as it is now.' })
export class RunUpdate {
  @Field(() => Int, { description: 'The event\'s version: reconnect with afterVersion set to the last one seen.' })
  version: number;
  @Field(() => RunEventType) event: RunEventType;
  @Field(() => SpecWorkflowRunType) run: SpecWorkflowRunType;
}
