import { Authorized, Ctx, Field, ObjectType, Query, Resolver } from 'type-graphql';
import type { Context } from '../server/context.js';

@ObjectType({ description: 'Who is asking: the role of the token the request carries.' })
export class Me {
  @Field({ description: 'viewer, operator or admin.' }) role: string;
  @Field({ description: 'A short, non-reversible label of the token (for logs), never the token.' }) tokenId: string;
}

@Resolver()
export class MeResolver {
  @Authorized('viewer')
  @Query(() => Me, { description: 'The role of the calling token, so a UI shows only the actions it may take.' })
  me(@Ctx() ctx: Context): Me {
    return { role: ctx.principal.role, tokenId: ctx.principal.tokenId };
  }
}
