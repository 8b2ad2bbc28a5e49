import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { FailureCode, RunStatus, Step } from '../interfaces.js';

/** The phase a run works on, as discovery found it (a snapshot: tasks.md may change later). */
export interface PhaseSnapshot {
  id: string;
  title: string;
  line: number;
  parent: { id: string; title: string; line: number } | null;
  openTaskIds: string[];
  openTaskCount: number;
  doneTaskCount: number;
  /** The exact instruction sent to Codex for this phase (also kept as the PROMPT artifact). */
  prompt: string;
}

/** A pull request as a run names it. */
export interface PullRequestNote {
  id: string;
  number: number;
  url: string;
}

export interface StackedOn {
  phaseId: string;
  branch: string;
  /** Its head when discovery read it: the commit this run's change applies to. */
  headSha: string;
  pullRequest: PullRequestNote;
  /** The phases in review under it, lowest first, that its pull request's body links. */
  below: { phaseId: string; pullRequest: PullRequestNote }[];
}

export interface Revision {
  pullRequest: PullRequestNote;
  /** The pull request's head when discovery read it (the parent of the new commit; the push's lease). */
  headSha: string;
  /** Where the pull request's diff starts: its base branch's head when discovery read it. */
  fromSha: string;
}

/** One MoonMind invocation: a chain of five steps on one feature of one repository. */
@Entity('spec_workflow_run')
export class SpecWorkflowRun {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'repository', type: 'text' })
  repository: string;

  @Column({ name: 'feature_id', type: 'text', nullable: true })
  featureId: string | null;

  /** The branch the run builds on: the one asked for, or the phase branch it stacked on. */
  @Column({ name: 'base_branch', type: 'text' })
  baseBranch: string;

  /** The branch the run was asked to start from (tasks.md is read there first). */
  @Column({ name: 'root_branch', type: 'text' })
  rootBranch: string;

  /** Asked to stack on the newest phase branch of the feature that has an open pull request. */
  @Column({ name: 'stack', type: 'boolean', default: false })
  stack: boolean;

  /** The phase asked for by id, instead of the next open one. */
  @Column({ name: 'phase_request', type: 'text', nullable: true })
  phaseRequest: string | null;

  @Column({ name: 'confirm_redo', type: 'boolean', default: false })
  confirmRedo: boolean;

  /** The operator's notes for Codex given at start (redacted like everything else before they are shown). */
  @Column({ name: 'notes', type: 'text', nullable: true })
  notes: string | null;

  /** The phase branch and pull request this stacked run builds on. */
  @Column({ name: 'stacked_on', type: 'jsonb', nullable: true })
  stackedOn: StackedOn | null;

  /** A phase in review revised on its pull request: the new commit goes on top of `headSha`. */
  @Column({ name: 'revision', type: 'jsonb', nullable: true })
  revision: Revision | null;

  @Column({ name: 'tasks_path', type: 'text', nullable: true })
  tasksPath: string | null;

  @Column({ name: 'phase', type: 'jsonb', nullable: true })
  phase: PhaseSnapshot | null;

  @Column({ name: 'status', type: 'enum', enum: RunStatus, enumName: 'run_status' })
  status: RunStatus;

  @Column({ name: 'current_step', type: 'enum', enum: Step, enumName: 'step_name', nullable: true })
  currentStep: Step | null;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey: string | null;

  @Column({ name: 'credential_set_id', type: 'uuid' })
  credentialSetId: string;

  @Column({ name: 'codex_environment', type: 'text', nullable: true })
  codexEnvironment: string | null;

  /** How many solutions Codex works out for the task (best-of-N), 1 to 4. */
  @Column({ name: 'codex_best_of_n', type: 'int', default: 1 })
  codexBestOfN: number;

  @Column({ name: 'sandbox', type: 'boolean', default: false })
  sandbox: boolean;

  @Column({ name: 'base_sha', type: 'text', nullable: true })
  baseSha: string | null;

  @Column({ name: 'codex_task_id', type: 'text', nullable: true })
  codexTaskId: string | null;

  @Column({ name: 'codex_task_url', type: 'text', nullable: true })
  codexTaskUrl: string | null;

  @Column({ name: 'branch', type: 'text', nullable: true })
  branch: string | null;

  @Column({ name: 'commit_sha', type: 'text', nullable: true })
  commitSha: string | null;

  @Column({ name: 'pull_request_number', type: 'int', nullable: true })
  pullRequestNumber: number | null;

  @Column({ name: 'pull_request_url', type: 'text', nullable: true })
  pullRequestUrl: string | null;

  @Column({ name: 'failure_code', type: 'enum', enum: FailureCode, enumName: 'failure_code', nullable: true })
  failureCode: FailureCode | null;

  @Column({ name: 'failure_step', type: 'enum', enum: Step, enumName: 'step_name', nullable: true })
  failureStep: Step | null;

  @Column({ name: 'failure_message', type: 'text', nullable: true })
  failureMessage: string | null;

  @Column({ name: 'failure_remediation', type: 'text', nullable: true })
  failureRemediation: string | null;

  /** Whether RESUME (re-running the failed step with the stored outputs) is safe. */
  @Column({ name: 'failure_resumable', type: 'boolean', nullable: true })
  failureResumable: boolean | null;

  @Column({ name: 'status_message', type: 'text', nullable: true })
  statusMessage: string | null;

  /** The sequence number of the run's latest event: 1, 2, 3 … with no gap. */
  @Column({ name: 'version', type: 'int', default: 0 })
  version: number;

  @Column({ name: 'retry_of', type: 'uuid', nullable: true })
  retryOf: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}
