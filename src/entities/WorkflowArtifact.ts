import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { ArtifactKind, Step } from '../interfaces.js';

/** A generated output (patch, log, conflict report, ...), its contents kept in PostgreSQL (artifact_chunk). */
@Entity('workflow_artifact')
export class WorkflowArtifact {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'run_id', type: 'uuid' })
  runId: string;

  @Column({ name: 'step', type: 'enum', enum: Step, enumName: 'step_name' })
  step: Step;

  @Column({ name: 'attempt', type: 'int' })
  attempt: number;

  @Column({ name: 'kind', type: 'enum', enum: ArtifactKind, enumName: 'artifact_kind' })
  kind: ArtifactKind;

  /** `<run id>/<name>` for stored contents, or an outside URL (branch, pull request, Codex task). */
  @Column({ name: 'location', type: 'text' })
  location: string;

  /** Its contents are stored in artifact_chunk (outside URLs have none). */
  @Column({ name: 'stored', type: 'boolean', default: false })
  stored: boolean;

  @Column({ name: 'content_type', type: 'text', nullable: true })
  contentType: string | null;

  @Column({ name: 'sha256', type: 'text', nullable: true })
  sha256: string | null;

  @Column({ name: 'size', type: 'bigint', nullable: true })
  size: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
