import { Arg, ID, Int, Resolver, Root, Subscription } from 'type-graphql';
import type { LoadedRun, RunUpdateData } from '../runs/feed.js';
import { presentEvent, presentRun } from '../runs/present.js';
import { RunFilterInput } from '../schema/connection.js';
import { RunUpdate, SpecWorkflowRunType } from '../schema/run.js';
import type { Context } from '../server/context.js';

const withPreloaded = (loaded: LoadedRun): SpecWorkflowRunType => ({
  ...presentRun(loaded.run),
  preloaded: { attempts: loaded.attempts, artifacts: loaded.artifacts },
});

const feedOf = (ctx: Context) => ctx.services.feed;

/**
 * Arguments of each subscription field that choose which events it gets (the run, where its log starts,
 * the filter), never what an event's payload holds: the resolvers below read only the event. The fan-out
 * (src/server/fanout.ts) shares a payload between subscriptions that differ only in these, so run pages
 * opened at different versions of a run share every live event's execution.
 */
export const SOURCE_ARGUMENTS: Readonly<Record<string, readonly string[]>> = {
  runUpdated: ['runId', 'afterVersion'],
  runsUpdated: ['filter'],
};

@Resolver()
export class RunSubscriptionResolver {
  @Subscription(() => RunUpdate, {
    description: 'Every event of the run after afterVersion (from the log), then each new one as it commits: in order, no gap, no duplicate.',
    subscribe: async ({ args, context }) => feedOf(context as Context).subscribe(args.runId as string, (args.afterVersion as number | null) ?? 0),
  })
  runUpdated(
    @Root() update: RunUpdateData,
    @Arg('runId', () => ID) _runId: string,
    @Arg('afterVersion', () => Int, { nullable: true }) _afterVersion?: number | null,
  ): RunUpdate {
    return { version: update.version, event: presentEvent(update.event), run: withPreloaded(update.run) };
  }

  @Subscription(() => SpecWorkflowRunType, {
    description: 'Run-level changes for dashboards: the run each time one matching the filter changes.',
    subscribe: ({ args, context }) => {
      const filter = (args.filter ?? {}) as RunFilterInput;
      return feedOf(context as Context).subscribeRuns(
        (run) =>
          (!filter.status || run.status === filter.status) &&
          (!filter.repository || run.repository === filter.repository) &&
          (!filter.featureId || run.featureId === filter.featureId),
      );
    },
  })
  runsUpdated(@Root() loaded: LoadedRun, @Arg('filter', () => RunFilterInput, { nullable: true }) _filter?: RunFilterInput | null): SpecWorkflowRunType {
    return withPreloaded(loaded);
  }
}
