import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { CredentialSet } from '../entities/index.js';
import {
  CreateCredentialSetInput,
  CredentialSetPayload,
  CredentialSetType,
  DeleteCredentialSetPayload,
  UpdateCredentialSetInput,
} from '../schema/credential-set.js';
import { createCredentialSet, deleteCredentialSet, listCredentialSets, updateCredentialSet } from '../credential-sets/store.js';
import type { Context } from '../server/context.js';
import { validateCredentialSet } from '../credential-sets/validate.js';
import { wakeCodexLine } from '../jobs/capacity.js';
import { pgTokenCache } from '../providers/github/app-tokens.js';

const present = (c: CredentialSet): CredentialSetType => ({ ...c, validationIssues: c.validationIssues ?? [] });

@Resolver(() => CredentialSetType)
export class CredentialSetResolver {
  @Authorized('viewer')
  @Query(() => [CredentialSetType])
  async credentialSets(@Ctx() ctx: Context): Promise<CredentialSetType[]> {
    return (await listCredentialSets(ctx.services.ds)).map(present);
  }

  @Authorized('admin')
  @Mutation(() => CredentialSetPayload)
  async createCredentialSet(@Arg('input') input: CreateCredentialSetInput, @Ctx() ctx: Context): Promise<CredentialSetPayload> {
    const { credentialSet, userErrors } = await createCredentialSet(ctx.services.ds, input);
    return { credentialSet: credentialSet && present(credentialSet), userErrors };
  }

  @Authorized('admin')
  @Mutation(() => CredentialSetPayload)
  async updateCredentialSet(@Arg('input') input: UpdateCredentialSetInput, @Ctx() ctx: Context): Promise<CredentialSetPayload> {
    const { credentialSet, userErrors } = await updateCredentialSet(ctx.services.ds, input.id, input);
    // A raised limit frees slots at once for the runs waiting in line.
    if (credentialSet && input.maxConcurrentCodexTasks != null) await wakeCodexLine(ctx.services, credentialSet.id);
    return { credentialSet: credentialSet && present(credentialSet), userErrors };
  }

  @Authorized('admin')
  @Mutation(() => CredentialSetPayload, {
    description: 'Run the preflight (Codex auth and environment, GitHub token and WRITE access) and store its time and issues.',
  })
  async validateCredentialSet(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: Context,
    @Arg('repository', () => String, { nullable: true, description: 'owner/name to check; default: the set\'s repositories.' })
    repository?: string | null,
  ): Promise<CredentialSetPayload> {
    const { credentialSet, userErrors } = await validateCredentialSet(ctx.services.ds, ctx.services.config, ctx.services.log, id, repository ?? null, pgTokenCache(ctx.services.db));
    return { credentialSet: credentialSet && present(credentialSet), userErrors };
  }

  @Authorized('admin')
  @Mutation(() => DeleteCredentialSetPayload)
  async deleteCredentialSet(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<DeleteCredentialSetPayload> {
    const userErrors = await deleteCredentialSet(ctx.services.ds, id);
    return { deletedId: userErrors.length ? null : id, userErrors };
  }
}
