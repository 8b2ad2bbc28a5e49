import { GraphQLError } from 'graphql';
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { AuthChecker } from 'type-graphql';
import type { DataSource } from 'typeorm';
import type { Config, Role } from '../config.js';
import type { Logger } from '../log.js';
import { BatchLoader, groupBy } from '../runs/loaders.js';
import { attemptsOfRuns, type StepAttempt } from '../runs/db/attempts.js';
import { artifactsOfRuns, type WorkflowArtifact } from '../runs/db/artifacts.js';
import type { RunFeed } from '../runs/feed.js';
import { hasRole, type Principal } from './auth.js';

/** What the resolvers work with: nothing of the process beyond these. */
export interface ApiServices {
  config: Config;
  log: Logger;
  ds: DataSource;
  db: pg.Pool;
  boss: PgBoss;
  feed: RunFeed;
}

/** What every resolver receives: the services, who is asking, and the request's batch loaders. */
export interface Context {
  services: ApiServices;
  principal: Principal;
  attempts: BatchLoader<string, StepAttempt[]>;
  artifacts: BatchLoader<string, WorkflowArtifact[]>;
}

export function createContext(services: ApiServices, principal: Principal): Context {
  return {
    services,
    principal,
    attempts: new BatchLoader(async (ids) => groupBy(await attemptsOfRuns(services.db, ids), (s) => s.runId), () => []),
    artifacts: new BatchLoader(async (ids) => groupBy(await artifactsOfRuns(services.db, ids), (a) => a.runId), () => []),
  };
}

/** `@Authorized('operator')`: roles rank viewer < operator < admin; too low is a FORBIDDEN error. */
export const authChecker: AuthChecker<Context, Role> = ({ context }, roles) => {
  const needed = roles[0] ?? 'viewer';
  if (hasRole(context.principal, needed)) return true;
  throw new GraphQLError(`This operation needs the ${needed} role; the token has ${context.principal?.role ?? 'none'}.`, {
    extensions: { code: 'FORBIDDEN' },
  });
};
