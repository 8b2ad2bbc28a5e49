import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { RunStatus } from './enums.js';
import { SpecWorkflowRunType } from './run.js';

@ObjectType()
export class PageInfo {
  @Field() hasNextPage: boolean;
  @Field(() => String, { nullable: true }) endCursor: string | null;
}

@ObjectType()
export class RunEdge {
  @Field() cursor: string;
  @Field(() => SpecWorkflowRunType) node: SpecWorkflowRunType;
}

@ObjectType({ description: 'Runs, newest first (Relay connection).' })
export class RunConnection {
  @Field(() => [RunEdge]) edges: RunEdge[];
  @Field(() => PageInfo) pageInfo: PageInfo;
  @Field(() => Int, { description: 'Runs matching the filter, across all pages.' }) totalCount: number;
}

@InputType()
export class RunFilterInput {
  @Field(() => RunStatus, { nullable: true }) status?: RunStatus | null;
  @Field(() => String, { nullable: true, description: 'owner/name' }) repository?: string | null;
  @Field(() => String, { nullable: true }) featureId?: string | null;
}
