import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { Step } from '../interfaces.js';

/** Append-only audit log: one row per transition, numbered 1, 2, 3 … per run. Never updated. */
@Entity('run_event')
export class RunEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @Column({ name: 'version', type: 'int' })
  version: number;

  /** Null for run-level events (created, cancelled). */
  @Column({ name: 'step', type: 'enum', enum: Step, enumName: 'step_name', nullable: true })
  step: Step | null;

  @Column({ name: 'attempt', type: 'int', nullable: true })
  attempt: number | null;

  @Column({ name: 'from_state', type: 'text', nullable: true })
  fromState: string | null;

  @Column({ name: 'to_state', type: 'text' })
  toState: string;

  @Column({ name: 'at', type: 'timestamptz' })
  at: Date;

  @Column({ name: 'payload', type: 'jsonb', default: {} })
  payload: Record<string, unknown>;
}
