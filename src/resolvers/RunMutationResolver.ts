import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import {
  CancelRunInput,
  CancelRunPayload,
  RetryRunInput,
  RetryRunPayload,
  StartSpecPhaseInput,
  StartSpecPhasePayload,
} from '../schema/mutations.js';
import { cancelRun } from '../runs/cancel.js';
import { presentRun } from '../runs/present.js';
import { retryRun } from '../runs/retry.js';
import { startRun } from '../runs/start.js';
import type { Context } from '../server/context.js';

@Resolver()
export class RunMutationResolver {
  @Authorized('operator')
  @Mutation(() => StartSpecPhasePayload, { description: 'Start a run: discover the next phase, Codex, apply, pull request.' })
  async startSpecPhase(@Arg('input') input: StartSpecPhaseInput, @Ctx() ctx: Context): Promise<StartSpecPhasePayload> {
    const { run, userErrors } = await startRun(ctx.services, input);
    if (run) ctx.services.log.info({ runId: run.id, repository: run.repository, featureId: run.featureId, by: ctx.principal.tokenId }, 'run started');
    return { run: run && presentRun(run), userErrors };
  }

  @Authorized('operator')
  @Mutation(() => RetryRunPayload)
  async retryRun(@Arg('input') input: RetryRunInput, @Ctx() ctx: Context): Promise<RetryRunPayload> {
    const { run, userErrors } = await retryRun(ctx.services, {
      runId: input.runId,
      mode: input.mode,
      confirmRestart: input.confirmRestart,
      notes: input.notes,
    });
    return { run: run && presentRun(run), userErrors };
  }

  @Authorized('operator')
  @Mutation(() => CancelRunPayload)
  async cancelRun(@Arg('input') input: CancelRunInput, @Ctx() ctx: Context): Promise<CancelRunPayload> {
    const { run, userErrors } = await cancelRun(ctx.services, input.runId, input.reason ?? null);
    return { run: run && presentRun(run), userErrors };
  }
}
