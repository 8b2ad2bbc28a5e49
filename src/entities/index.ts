import { CredentialSet } from './CredentialSet.js';
import { RunEvent } from './RunEvent.js';
import { SpecWorkflowRun } from './SpecWorkflowRun.js';
import { StepState } from './StepState.js';
import { WorkflowArtifact } from './WorkflowArtifact.js';

export { CredentialSet, RunEvent, SpecWorkflowRun, StepState, WorkflowArtifact };
export const ENTITIES = [SpecWorkflowRun, StepState, RunEvent, CredentialSet, WorkflowArtifact];
