import { registerEnumType } from 'type-graphql';
import { ArtifactKind, RunStatus, Step, StepState } from '../interfaces.js';

registerEnumType(RunStatus, { name: 'RunStatus', description: 'Where a run stands.' });
registerEnumType(Step, { name: 'Step', description: 'The five steps of the chain, in order.' });
registerEnumType(StepState, { name: 'StepState', description: 'The state of one attempt of one step.' });
registerEnumType(ArtifactKind, { name: 'ArtifactKind' });

export enum RetryMode {
  /** Re-run the failed step as a new attempt with the stored outputs. */
  RESUME = 'RESUME',
  /** Start a new run from discovery, linked to this one by retryOf. */
  RESTART = 'RESTART',
}
registerEnumType(RetryMode, { name: 'RetryMode' });

export { ArtifactKind, RunStatus, Step, StepState };
