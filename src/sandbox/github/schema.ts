import { schema as github } from '@octokit/graphql-schema';
import { buildClientSchema, type GraphQLSchema } from 'graphql';

let built: GraphQLSchema | undefined;

/**
 * GitHub's own schema, made executable. Built from the introspection JSON, not the SDL: the SDL has a
 * duplicate field that buildSchema rejects. Built once per process (about 0.1 s).
 */
export function githubSchema(): GraphQLSchema {
  built ??= buildClientSchema(github.json as Parameters<typeof buildClientSchema>[0]);
  return built;
}
