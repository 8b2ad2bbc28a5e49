import { GraphQLError } from 'graphql';
import type { AuthChecker } from 'type-graphql';
import type { Role } from '../config.js';
import type { App } from '../app.js';
import { BatchLoader, groupBy } from '../runs/loaders.js';
import { artifactsOfRuns, stepsOfRuns } from '../runs/queries.js';
import type { StepState, WorkflowArtifact } from '../entities/index.js';
import { hasRole, type Principal } from './auth.js';

/** What every resolver receives: the services, who is asking, and the request's batch loaders. */
export interface Context {
  app: App;
  principal: Principal;
  steps: BatchLoader<string, StepState[]>;
  artifacts: BatchLoader<string, WorkflowArtifact[]>;
}

export function createContext(app: App, principal: Principal): Context {
  return {
    app,
    principal,
    steps: new BatchLoader(async (ids) => groupBy(await stepsOfRuns(app.ds, ids), (s) => s.runId), () => []),
    artifacts: new BatchLoader(async (ids) => groupBy(await artifactsOfRuns(app.ds, ids), (a) => a.runId), () => []),
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
