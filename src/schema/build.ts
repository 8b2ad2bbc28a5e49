import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { CredentialSetResolver } from '../resolvers/CredentialSetResolver.js';
import { DiscoveryResolver } from '../resolvers/DiscoveryResolver.js';
import { MeResolver } from '../resolvers/MeResolver.js';
import { RunMutationResolver } from '../resolvers/RunMutationResolver.js';
import { RunResolver, StepAttemptResolver } from '../resolvers/RunResolver.js';
import { RunSubscriptionResolver } from '../resolvers/RunSubscriptionResolver.js';
import { authChecker } from '../server/context.js';

export const RESOLVERS = [RunResolver, StepAttemptResolver, RunMutationResolver, RunSubscriptionResolver, CredentialSetResolver, DiscoveryResolver, MeResolver] as const;

/** The executable schema, code-first. `schema.graphql` at the repository root is its printed form. */
export function buildAppSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...RESOLVERS],
    authChecker,
    authMode: 'error',
    validate: false,
    emitSchemaFile: false,
    // Every subscription here has its own subscribe function (src/runs/feed.ts); type-graphql still
    // insists on a PubSub, so it gets one that says it is not used.
    pubSub: {
      publish: () => {
        throw new Error('spec-chain publishes through the run feed, not type-graphql PubSub');
      },
      subscribe: () => {
        throw new Error('spec-chain subscriptions use the run feed, not type-graphql PubSub');
      },
    },
  });
}
