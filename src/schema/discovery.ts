import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PhaseRef } from './run.js';

export enum DiscoveryStatus {
  PHASE = 'PHASE',
  NO_WORK = 'NO_WORK',
  INVALID = 'INVALID',
}
registerEnumType(DiscoveryStatus, { name: 'DiscoveryStatus' });

@ObjectType()
export class PreviewTask {
  @Field(() => String, { nullable: true }) id: string | null;
  @Field(() => Int) line: number;
  @Field() description: string;
  @Field({ description: 'Marked [P]: may run in parallel.' }) parallel: boolean;
  @Field(() => String, { nullable: true, description: 'The [USn] user story.' }) story: string | null;
}

@ObjectType()
export class PreviewPhase {
  @Field() id: string;
  @Field() title: string;
  @Field(() => Int) line: number;
  @Field(() => PhaseRef, { nullable: true }) parent: PhaseRef | null;
  @Field(() => [PreviewTask]) openTasks: PreviewTask[];
  @Field(() => Int) doneTasks: number;
}

@ObjectType()
export class SpecValidationError {
  @Field() code: string;
  @Field() file: string;
  @Field(() => Int, { nullable: true }) line: number | null;
  @Field() message: string;
}

@ObjectType({ description: 'What discovery would answer for a tasks.md: the next phase, no work, or why the file cannot be used.' })
export class DiscoveryPreview {
  @Field(() => DiscoveryStatus) status: DiscoveryStatus;
  @Field(() => PreviewPhase, { nullable: true }) phase: PreviewPhase | null;
  @Field(() => [SpecValidationError]) errors: SpecValidationError[];
}
