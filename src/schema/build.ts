import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { CredentialSetResolver } from '../resolvers/CredentialSetResolver.js';
import { RunResolver } from '../resolvers/RunResolver.js';
import { authChecker } from '../server/context.js';

export const RESOLVERS = [RunResolver, CredentialSetResolver] as const;

/** The executable schema, code-first. `schema.graphql` at the repository root is its printed form. */
export function buildAppSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...RESOLVERS],
    authChecker,
    authMode: 'error',
    validate: false,
    emitSchemaFile: false,
  });
}
