import { registerEnumType } from 'type-graphql';
import { ArtifactKind, CommitVia, FailureCode, RunStatus, Step, StepState, UserErrorCode, WaitReason } from '../interfaces.js';

registerEnumType(RunStatus, { name: 'RunStatus', description: 'Where a run stands.' });
registerEnumType(Step, { name: 'Step', description: 'The five steps of the chain, in order.' });
registerEnumType(StepState, { name: 'StepState', description: 'The state of one attempt of one step.' });
registerEnumType(ArtifactKind, { name: 'ArtifactKind' });
registerEnumType(FailureCode, { name: 'FailureCode', description: 'Why a run failed; each code has its remediation.' });
registerEnumType(UserErrorCode, { name: 'UserErrorCode', description: 'Why a mutation changed nothing.' });
registerEnumType(WaitReason, { name: 'WaitReason', description: 'Why a run or a step waits.' });

export enum RetryMode {
  /** Re-run the failed step as a new attempt with the stored outputs. */
  RESUME = 'RESUME',
  /** Start a new run from discovery, linked to this one by retryOf. */
  RESTART = 'RESTART',
}
registerEnumType(RetryMode, { name: 'RetryMode' });
registerEnumType(CommitVia, { name: 'CommitVia', description: 'How publish makes the phase commit: GIT pushes it; API has GitHub create it (signed, shown Verified).' });

export { ArtifactKind, CommitVia, FailureCode, RunStatus, Step, StepState, UserErrorCode, WaitReason };
