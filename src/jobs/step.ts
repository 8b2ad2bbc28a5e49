import type { App } from '../app.js';
import type { CredentialSet } from '../entities/index.js';
import type { FailureCode, Step } from '../interfaces.js';
import { FailureKind } from '../interfaces.js';
import type { Logger } from '../log.js';
import { ProviderError } from '../providers/errors.js';
import type { Providers } from '../providers/index.js';
import type { ArtifactInput, ArtifactStore } from '../runs/artifacts.js';
import type { Run, RunFields, StepRow } from '../runs/transitions.js';

/** What a step's own work receives. The bookkeeping around it lives once, in the chain runner. */
export interface StepContext {
  app: App;
  run: Run;
  step: Step;
  attempt: number;
  /** This attempt's row as claimed: `payload` holds what an earlier try reported (e.g. poll counts). */
  state: StepRow;
  credentialSet: CredentialSet;
  providers: Providers;
  artifacts: ArtifactStore;
  /** Aborted when the run is cancelled: pass it to every outside call. */
  signal: AbortSignal;
  log: Logger;
}

export type StepResult =
  /** The step is finished: write its outputs and artifacts and queue the next step. */
  | { kind: 'done'; message: string; outputs?: RunFields; artifacts?: ArtifactInput[]; payload?: Record<string, unknown> }
  /** Not yet (a Codex task still running): run this step again after `delayMs`, durably. */
  | { kind: 'wait'; message: string; delayMs: number; artifacts?: ArtifactInput[]; payload?: Record<string, unknown> }
  /** Nothing to do: the run ends NO_WORK and the later steps are skipped. */
  | { kind: 'no-work'; message: string; outputs?: RunFields; artifacts?: ArtifactInput[]; payload?: Record<string, unknown> };

export type StepWork = (ctx: StepContext) => Promise<StepResult>;

/** A permanent failure found by a step itself, with the artifacts the operator needs to act on it. */
export class StepFailure extends ProviderError {
  constructor(
    code: FailureCode,
    message: string,
    readonly artifacts: ArtifactInput[] = [],
    options: { details?: Record<string, unknown>; kind?: FailureKind; secretRef?: string } = {},
  ) {
    super(options.kind ?? FailureKind.PERMANENT, code, message, options);
    this.name = 'StepFailure';
  }
}
