import { CredentialSet } from './CredentialSet.js';
import { RunEvent } from './RunEvent.js';
import { SpecWorkflowRun } from './SpecWorkflowRun.js';
import { StepAttempt } from './StepAttempt.js';
import { WorkflowArtifact } from './WorkflowArtifact.js';

export { CredentialSet, RunEvent, SpecWorkflowRun, StepAttempt, WorkflowArtifact };
export const ENTITIES = [SpecWorkflowRun, StepAttempt, RunEvent, CredentialSet, WorkflowArtifact];
