import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { Config } from '../config.js';

/**
 * The limits every GraphQL document meets before it runs, over HTTP (Apollo) and WebSocket (graphql-ws)
 * alike: a token count checked while parsing (graphql-js's own `maxTokens`), then GraphQL Armor's depth,
 * alias and cost rules beside the specified validation rules. A refused document is never executed.
 */
export interface GraphqlLimits {
  parseOptions: ParseOptions;
  validationRules: ValidationRule[];
  /** For graphql-ws: parse with the token limit. */
  parse(query: string): DocumentNode;
  /** For graphql-ws: the specified rules plus the limits. */
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
}

// Report instead of throw: the refusal is an ordinary validation error with its message, and graphql-js
// stops at it like at any other.
const report = [(ctx: ValidationContext | null, error: GraphQLError) => ctx?.reportError(error)];
const armor = { propagateOnRejection: false, onReject: report, exposeLimits: true } as const;

export function graphqlLimits(limits: Config['graphqlLimits']): GraphqlLimits {
  const parseOptions: ParseOptions = { maxTokens: limits.maxTokens };
  const validationRules: ValidationRule[] = [
    maxDepthRule({ ...armor, n: limits.maxDepth, ignoreIntrospection: true }),
    maxAliasesRule({ ...armor, n: limits.maxAliases }),
    costLimitRule({ ...armor, maxCost: limits.maxCost, ignoreIntrospection: true }),
  ];
  const rules = [...specifiedRules, ...validationRules];
  return {
    parseOptions,
    validationRules,
    parse: (query) => parse(query, parseOptions),
    validate: (schema, document) => validate(schema, document, rules),
  };
}
