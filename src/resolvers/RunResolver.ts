import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { GraphQLError } from 'graphql';
import { RunConnection, RunFilterInput } from '../schema/connection.js';
import { Artifact, RunEventType, SpecWorkflowRunType, StepAttemptType, Wait } from '../schema/run.js';
import { waitOf } from '../runs/waits.js';
import { eventsOfRun } from '../runs/db/events.js';
import { decodeCursor, encodeCursor, getRun, listRuns } from '../runs/queries.js';
import { presentArtifact, presentAttempt, presentEvent, presentRun } from '../runs/present.js';
import type { StepAttempt, WorkflowArtifact } from '../entities/index.js';
import type { Context } from '../server/context.js';

/**
 * `present` of a run's attempts or artifacts: those a subscription event carries (`preloaded`) at once, so
 * an event whose selection reads nothing else is executed synchronously by the fan-out; else through the
 * request's loader.
 */
function withRows<K extends 'attempts' | 'artifacts', T>(
  run: SpecWorkflowRunType,
  ctx: Context,
  rows: K,
  present: (all: K extends 'attempts' ? StepAttempt[] : WorkflowArtifact[]) => T,
): T | Promise<T> {
  type Rows = K extends 'attempts' ? StepAttempt[] : WorkflowArtifact[];
  if (run.preloaded) return present(run.preloaded[rows] as Rows);
  return (ctx[rows].load(run.id) as Promise<Rows>).then(present);
}

@Resolver(() => SpecWorkflowRunType)
export class RunResolver {
  @Authorized('viewer')
  @Query(() => SpecWorkflowRunType, { nullable: true })
  async run(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<SpecWorkflowRunType | null> {
    const run = await getRun(ctx.services.db, id);
    return run && presentRun(run);
  }

  @Authorized('viewer')
  @Query(() => RunConnection)
  async runs(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('filter', () => RunFilterInput, { nullable: true }) filter?: RunFilterInput | null,
  ): Promise<RunConnection> {
    if (first < 0 || first > 100) throw new GraphQLError('first must be between 0 and 100.', { extensions: { code: 'BAD_USER_INPUT' } });
    const cursor = after ? decodeCursor(after) : null;
    if (after && !cursor) throw new GraphQLError('after is not a cursor this API returned.', { extensions: { code: 'BAD_USER_INPUT' } });
    const page = await listRuns(ctx.services.db, { first, after: cursor, filter });
    const edges = page.runs.map((run) => ({ cursor: encodeCursor(run), node: presentRun(run) }));
    return {
      edges,
      totalCount: page.totalCount,
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  @FieldResolver(() => [StepAttemptType], { description: 'The latest attempt of each step, in chain order.' })
  steps(@Root() run: SpecWorkflowRunType, @Ctx() ctx: Context): StepAttemptType[] | Promise<StepAttemptType[]> {
    return withRows(run, ctx, 'attempts', (all) => [...new Map(all.map((s) => [s.step, s])).values()].map(presentAttempt));
  }

  @FieldResolver(() => [StepAttemptType], { description: 'Every attempt of every step: the attempt history.' })
  stepAttempts(@Root() run: SpecWorkflowRunType, @Ctx() ctx: Context): StepAttemptType[] | Promise<StepAttemptType[]> {
    return withRows(run, ctx, 'attempts', (all) => all.map(presentAttempt));
  }

  @FieldResolver(() => Wait, { nullable: true, description: 'Why the run waits now (its current step\'s wait), or null when it does not.' })
  async waitingFor(@Root() run: SpecWorkflowRunType, @Ctx() ctx: Context): Promise<Wait | null> {
    if (!run.currentStep) return null;
    const current = (await withRows(run, ctx, 'attempts', (all) => all)).filter((a) => a.step === run.currentStep).at(-1);
    return current ? waitOf(ctx.services.db, current) : null;
  }

  @FieldResolver(() => [Artifact])
  artifacts(@Root() run: SpecWorkflowRunType, @Ctx() ctx: Context): Artifact[] | Promise<Artifact[]> {
    return withRows(run, ctx, 'artifacts', (all) => all.map(presentArtifact));
  }

  @FieldResolver(() => [RunEventType], { description: 'The run\'s event log, oldest first.' })
  async events(
    @Root() run: SpecWorkflowRunType,
    @Ctx() ctx: Context,
    @Arg('afterVersion', () => Int, { defaultValue: 0 }) afterVersion: number,
  ): Promise<RunEventType[]> {
    return (await eventsOfRun(ctx.services.db, run.id, afterVersion)).map(presentEvent);
  }
}

@Resolver(() => StepAttemptType)
export class StepAttemptResolver {
  @FieldResolver(() => Wait, { nullable: true, description: 'Why this attempt waits, with its place in line read now; null when it does not wait.' })
  waitingFor(@Root() attempt: StepAttemptType, @Ctx() ctx: Context): Promise<Wait | null> {
    return waitOf(ctx.services.db, attempt.source);
  }
}
