import { parseRepository } from '../git/repository.js';
import { phaseBranchesDocument } from './documents.js';
import { notFoundAsUnavailable } from './repository-state.js';
import type { Send } from './request.js';

/** A phase branch as GitHub has it: its head, and the open pull request whose head it is (if any). */
export interface PhaseBranch {
  branch: string;
  headSha: string;
  pullRequest: { id: string; number: number; url: string; baseRefName: string } | null;
}

interface RefData {
  name: string;
  target: { oid?: string } | null;
  associatedPullRequests: { nodes: { id: string; number: number; url: string; baseRefName: string; headRefName: string; headRefOid: string }[] };
}

/** The branches that exist, with their open pull request, in one request (absent branches are left out). */
export async function phaseBranches(send: Send, input: { repository: string; branches: readonly string[]; signal?: AbortSignal }): Promise<PhaseBranch[]> {
  if (!input.branches.length) return [];
  const { owner, name } = parseRepository(input.repository);
  const variables: Record<string, unknown> = { owner, name };
  input.branches.forEach((branch, i) => (variables[`b${i}`] = `refs/heads/${branch}`));
  let data: { repository: Record<string, RefData | null | string> | null };
  try {
    data = await send(phaseBranchesDocument(input.branches.length), variables, input.signal);
  } catch (error) {
    throw notFoundAsUnavailable(error, input.repository);
  }
  return input.branches.flatMap((branch, i) => {
    const ref = data.repository?.[`b${i}`] as RefData | null | undefined;
    if (!ref?.target?.oid) return [];
    const open = ref.associatedPullRequests.nodes.find((pr) => pr.headRefName === branch) ?? null;
    return [{ branch, headSha: ref.target.oid, pullRequest: open && { id: open.id, number: open.number, url: open.url, baseRefName: open.baseRefName } }];
  });
}
