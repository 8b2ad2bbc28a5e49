import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type PullRequestState = 'OPEN' | 'CLOSED' | 'MERGED';

/** A pull request as the emulator keeps it. The head commit is read live from the branch. */
export interface PullRequestRecord {
  id: string;
  repository: string;
  number: number;
  title: string;
  body: string;
  state: PullRequestState;
  isDraft: boolean;
  baseRefName: string;
  headRefName: string;
  /** The head commit when last seen, kept for when the branch is gone. */
  headRefOid: string;
  author: string;
  createdAt: string;
  updatedAt: string;
  /** Conversation comments, oldest first (state files written before comments existed have none). */
  comments?: { id: string; author: string; body: string; createdAt: string }[];
  mergedAt?: string | null;
  mergeCommitOid?: string | null;
}

interface StateFile {
  version: 1;
  pullRequests: PullRequestRecord[];
  lastNumber: Record<string, number>;
  /** Commits GitHub made and signed (createCommitOnBranch): shown Verified. */
  signedCommits?: string[];
}

/**
 * The emulator's pull requests: in memory, and written to `stateFile` after every change when one is
 * given, so a restarted sandbox still has them (and keeps numbering where it stopped).
 */
export class PullRequestStore {
  private pullRequests: PullRequestRecord[] = [];
  private lastNumber: Record<string, number> = {};
  private signedCommits = new Set<string>();

  constructor(private readonly stateFile?: string) {
    if (stateFile && existsSync(stateFile)) {
      const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as StateFile;
      this.pullRequests = saved.pullRequests ?? [];
      this.lastNumber = saved.lastNumber ?? {};
      this.signedCommits = new Set(saved.signedCommits ?? []);
    }
  }

  list(repository?: string): PullRequestRecord[] {
    return this.pullRequests.filter((pr) => repository === undefined || pr.repository === repository).map((pr) => ({ ...pr }));
  }

  get(id: string): PullRequestRecord | undefined {
    const found = this.pullRequests.find((pr) => pr.id === id);
    return found && { ...found };
  }

  create(fields: Omit<PullRequestRecord, 'id' | 'number' | 'createdAt' | 'updatedAt'>, id: (n: number) => string): PullRequestRecord {
    const number = (this.lastNumber[fields.repository] ?? 0) + 1;
    this.lastNumber[fields.repository] = number;
    const now = new Date().toISOString();
    const record: PullRequestRecord = { ...fields, id: id(number), number, createdAt: now, updatedAt: now };
    this.pullRequests.push(record);
    this.save();
    return { ...record };
  }

  update(
    id: string,
    changes: Partial<Pick<PullRequestRecord, 'title' | 'body' | 'state' | 'baseRefName' | 'headRefOid' | 'comments' | 'mergedAt' | 'mergeCommitOid'>>,
  ): PullRequestRecord {
    const record = this.pullRequests.find((pr) => pr.id === id);
    if (!record) throw new Error(`No pull request ${id}.`);
    Object.assign(record, changes, { updatedAt: new Date().toISOString() });
    this.save();
    return { ...record };
  }

  /** A commit the emulator made as GitHub does, signing it. */
  markSigned(oid: string): void {
    this.signedCommits.add(oid);
    this.save();
  }

  isSigned(oid: string): boolean {
    return this.signedCommits.has(oid);
  }

  clear(): void {
    this.pullRequests = [];
    this.lastNumber = {};
    this.save();
  }

  /** Write then rename: a crash mid-write never leaves a half file behind. */
  private save(): void {
    if (!this.stateFile) return;
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const state: StateFile = { version: 1, pullRequests: this.pullRequests, lastNumber: this.lastNumber, signedCommits: [...this.signedCommits] };
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2));
    renameSync(tmp, this.stateFile);
  }
}
