import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { FailureCode, Step, StepState, WaitReason } from '../interfaces.js';

/** One attempt of one step of a run (the spec's CeleryTaskState). Unique per (run, step, attempt). */
@Entity('step_attempt')
export class StepAttempt {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @Column({ name: 'step', type: 'enum', enum: Step, enumName: 'step_name' })
  step: Step;

  @Column({ name: 'attempt', type: 'int' })
  attempt: number;

  @Column({ name: 'state', type: 'enum', enum: StepState, enumName: 'step_state' })
  state: StepState;

  @Column({ name: 'job_id', type: 'text', nullable: true })
  jobId: string | null;

  @Column({ name: 'worker_id', type: 'text', nullable: true })
  workerId: string | null;

  /** The claim of the try running now: a worker's results are written only while it still holds it. */
  @Column({ name: 'claim', type: 'uuid', nullable: true })
  claim: string | null;

  /** How many times this attempt's job has been picked up (retries after transient failures or lost workers). */
  @Column({ name: 'tries', type: 'int', default: 0 })
  tries: number;

  @Column({ name: 'queued_at', type: 'timestamptz', nullable: true })
  queuedAt: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  /** The last sign of life of the worker running this try (claimed, or its heartbeat). */
  @Column({ name: 'heartbeat_at', type: 'timestamptz', nullable: true })
  heartbeatAt: Date | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'message', type: 'text', nullable: true })
  message: string | null;

  /** The latest structured payload the step reported (poll snapshot, outputs, ...). */
  @Column({ name: 'payload', type: 'jsonb', nullable: true })
  payload: Record<string, unknown> | null;

  @Column({ name: 'error', type: 'jsonb', nullable: true })
  error: { code: FailureCode; message: string; kind: string } | null;

  /** Why the attempt waits (QUEUED, WAITING, RETRYING), since when, until when, and the line (`waitKey`) it waits in. */
  @Column({ name: 'wait_reason', type: 'enum', enum: WaitReason, enumName: 'wait_reason', nullable: true })
  waitReason: WaitReason | null;

  @Column({ name: 'wait_since', type: 'timestamptz', nullable: true })
  waitSince: Date | null;

  @Column({ name: 'wait_until', type: 'timestamptz', nullable: true })
  waitUntil: Date | null;

  @Column({ name: 'wait_message', type: 'text', nullable: true })
  waitMessage: string | null;

  @Column({ name: 'wait_key', type: 'text', nullable: true })
  waitKey: string | null;

  /** The operator's notes this attempt took to Codex (a RESUME with notes, or a start with notes). */
  @Column({ name: 'notes', type: 'text', nullable: true })
  notes: string | null;
}
