import { GitHubError, notFound, unprocessable } from './errors.js';
import { nodeId, parseNodeId } from './ids.js';
import { BareRepository } from './repos.js';
import type { PullRequestRecord, PullRequestStore } from './store.js';

/**
 * The emulated part of GitHub's graph, as plain objects for graphql-js's default resolver: a field is
 * a value or a function of (args, context). `__typename` picks the concrete type of interfaces
 * (GitObject, RepositoryOwner, Node, Actor).
 */

export type Permission = 'ADMIN' | 'MAINTAIN' | 'WRITE' | 'TRIAGE' | 'READ';

export interface Viewer {
  login: string;
  permission: Permission;
  /** `owner/name` the token can see; all of gitRoot when absent. */
  repositories?: string[];
}

export interface RateLimitState {
  cost: number;
  limit: number;
  remaining: number;
  used: number;
  resetAt: Date;
}

export interface GraphContext {
  gitRoot: string;
  /** The emulator's own base URL, for `url` fields. */
  baseUrl: string;
  store: PullRequestStore;
  viewer: Viewer;
  rateLimit: RateLimitState;
}

type Args = Record<string, unknown>;
type Input = Record<string, unknown>;

const OWNER = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const NAME = /^[A-Za-z0-9._-]+$/;

function findRepository(ctx: GraphContext, owner: string, name: string, notFoundMessage?: string): BareRepository {
  const nwo = `${owner}/${name}`.toLowerCase();
  const visible = !ctx.viewer.repositories || ctx.viewer.repositories.some((r) => r.toLowerCase() === nwo);
  const repo = OWNER.test(owner) && NAME.test(name) && name !== '.' && name !== '..' ? new BareRepository(ctx.gitRoot, owner, name) : null;
  if (!repo || !visible || !repo.exists()) {
    throw notFound(notFoundMessage ?? `Could not resolve to a Repository with the name '${owner}/${name}'.`);
  }
  return repo;
}

function repositoryById(ctx: GraphContext, id: string): BareRepository {
  const [owner = '', name = ''] = parseNodeId(id, 'R').key.split('/');
  return findRepository(ctx, owner, name, `Could not resolve to a node with the global id of '${id}'`);
}

function requireWrite(ctx: GraphContext): void {
  if (!['ADMIN', 'MAINTAIN', 'WRITE'].includes(ctx.viewer.permission)) {
    throw new GitHubError('FORBIDDEN', 'Resource not accessible by personal access token');
  }
}

function user(ctx: GraphContext, login: string) {
  return { __typename: 'User', id: nodeId('U', login), login, name: login, url: `${ctx.baseUrl}/${login}` };
}

function repositoryObject(ctx: GraphContext, repo: BareRepository) {
  return {
    __typename: 'Repository',
    id: nodeId('R', repo.nameWithOwner),
    name: repo.name,
    nameWithOwner: repo.nameWithOwner,
    owner: user(ctx, repo.owner),
    url: `${ctx.baseUrl}/${repo.nameWithOwner}`,
    isPrivate: true,
    isArchived: false,
    isFork: false,
    viewerPermission: ctx.viewer.permission,
    viewerCanAdminister: ctx.viewer.permission === 'ADMIN',
    defaultBranchRef: async () => {
      const name = await repo.defaultBranch();
      const ref = name ? await repo.readRef(name) : null;
      return ref && refObject(ctx, repo, ref);
    },
    ref: async ({ qualifiedName }: Args) => {
      const ref = await repo.readRef(String(qualifiedName));
      return ref && refObject(ctx, repo, ref);
    },
    pullRequests: (args: Args) => pullRequestConnection(ctx, repo, args),
  };
}

function refObject(ctx: GraphContext, repo: BareRepository, ref: { name: string; oid: string }) {
  const prefix = ref.name.startsWith('refs/heads/') ? 'refs/heads/' : ref.name.startsWith('refs/tags/') ? 'refs/tags/' : 'refs/';
  const name = ref.name.slice(prefix.length);
  return {
    __typename: 'Ref',
    id: nodeId('REF', `${repo.nameWithOwner}:${ref.name}`),
    name,
    prefix,
    target: commitObject(ctx, repo, ref.oid),
    repository: () => repositoryObject(ctx, repo),
    associatedPullRequests: (args: Args) => pullRequestConnection(ctx, repo, { ...args, headRefName: name }),
  };
}

function commitObject(ctx: GraphContext, repo: BareRepository, oid: string) {
  const info = () => repo.commitInfo(oid);
  return {
    __typename: 'Commit',
    id: nodeId('C', `${repo.nameWithOwner}:${oid}`),
    oid,
    abbreviatedOid: oid.slice(0, 7),
    url: `${ctx.baseUrl}/${repo.nameWithOwner}/commit/${oid}`,
    message: async () => (await info()).message,
    messageHeadline: async () => (await info()).message.split('\n')[0],
    committedDate: async () => (await info()).committedDate,
    authoredDate: async () => (await info()).authoredDate,
    tree: async () => {
      const tree = await repo.treeOf(oid);
      return { __typename: 'Tree', id: nodeId('T', `${repo.nameWithOwner}:${tree}`), oid: tree, abbreviatedOid: tree.slice(0, 7) };
    },
    // Only the commits GitHub made itself (createCommitOnBranch) carry its signature; pushed ones are unsigned.
    signature: () =>
      ctx.store.isSigned(oid)
        ? { __typename: 'GpgSignature', isValid: true, state: 'VALID', wasSignedByGitHub: true, email: 'noreply@github.com', keyId: 'B5690EEEBB952194', payload: '', signature: '', signer: null }
        : null,
    repository: () => repositoryObject(ctx, repo),
  };
}

export function pullRequestUrl(baseUrl: string, pr: Pick<PullRequestRecord, 'repository' | 'number'>): string {
  return `${baseUrl}/${pr.repository}/pull/${pr.number}`;
}

function pullRequestObject(ctx: GraphContext, repo: BareRepository, pr: PullRequestRecord) {
  const branch = (name: string) => repo.readRef(`refs/heads/${name}`);
  const url = pullRequestUrl(ctx.baseUrl, pr);
  return {
    ...pr,
    __typename: 'PullRequest',
    url,
    permalink: url,
    closed: pr.state !== 'OPEN',
    merged: pr.state === 'MERGED',
    mergedAt: pr.mergedAt ?? null,
    mergeCommit: pr.mergeCommitOid ? commitObject(ctx, repo, pr.mergeCommitOid) : null,
    comments: (args: Args) => {
      const all = (pr.comments ?? []).map((c) => commentObject(ctx, repo, pr, c));
      const first = args.first as number | null | undefined;
      const page = first == null ? all : all.slice(0, first);
      return { totalCount: all.length, nodes: page, pageInfo: { hasNextPage: page.length < all.length, hasPreviousPage: false, startCursor: null, endCursor: null } };
    },
    mergeable: 'UNKNOWN',
    author: user(ctx, pr.author),
    headRefOid: async () => (await branch(pr.headRefName))?.oid ?? pr.headRefOid,
    baseRefOid: async () => (await branch(pr.baseRefName))?.oid,
    headRef: async () => {
      const ref = await branch(pr.headRefName);
      return ref && refObject(ctx, repo, ref);
    },
    baseRef: async () => {
      const ref = await branch(pr.baseRefName);
      return ref && refObject(ctx, repo, ref);
    },
    repository: () => repositoryObject(ctx, repo),
    baseRepository: () => repositoryObject(ctx, repo),
    headRepository: () => repositoryObject(ctx, repo),
    headRepositoryOwner: user(ctx, repo.owner),
  };
}

function commentObject(ctx: GraphContext, repo: BareRepository, pr: PullRequestRecord, c: NonNullable<PullRequestRecord['comments']>[number]) {
  const url = `${pullRequestUrl(ctx.baseUrl, pr)}#issuecomment-${c.id.slice(-8)}`;
  return { __typename: 'IssueComment', id: c.id, body: c.body, bodyText: c.body, url, createdAt: c.createdAt, author: user(ctx, c.author), repository: () => repositoryObject(ctx, repo) };
}

const cursorOf = (pr: PullRequestRecord) => Buffer.from(`cursor:v2:${pr.number}`).toString('base64');

/** `pullRequests(states, headRefName, baseRefName, orderBy, first|last, after, before)` with GitHub's limits. */
function pullRequestConnection(ctx: GraphContext, repo: BareRepository, args: Args) {
  const first = args.first as number | null | undefined;
  const last = args.last as number | null | undefined;
  if (first == null && last == null) {
    throw new GitHubError(
      'MISSING_PAGINATION_BOUNDARIES',
      'You must provide a `first` or `last` value to properly paginate the `pullRequests` connection.',
    );
  }
  for (const [bound, value] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (value != null && (value < 0 || value > 100)) {
      throw new GitHubError(
        'EXCESSIVE_PAGINATION',
        `Requesting ${value} records on the \`pullRequests\` connection exceeds the \`${bound}\` limit of 100 records.`,
      );
    }
  }
  const states = args.states as string[] | null | undefined;
  const order = args.orderBy as { field: string; direction: string } | null | undefined;
  let all = ctx.store
    .list(repo.nameWithOwner)
    .filter((pr) => !states?.length || states.includes(pr.state))
    .filter((pr) => args.headRefName == null || pr.headRefName === args.headRefName)
    .filter((pr) => args.baseRefName == null || pr.baseRefName === args.baseRefName);
  if (order?.field === 'UPDATED_AT') all.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt) || a.number - b.number);
  if (order?.direction === 'DESC') all = all.reverse();

  const at = (cursor: unknown) => all.findIndex((pr) => cursorOf(pr) === cursor);
  let items = all;
  if (args.after != null) items = items.slice(at(args.after) + 1);
  if (args.before != null) items = items.slice(0, Math.max(0, at(args.before)));
  const page = first != null ? items.slice(0, first) : items.slice(Math.max(0, items.length - last!));
  return {
    totalCount: all.length,
    nodes: page.map((pr) => pullRequestObject(ctx, repo, pr)),
    edges: page.map((pr) => ({ cursor: cursorOf(pr), node: pullRequestObject(ctx, repo, pr) })),
    pageInfo: {
      hasNextPage: first != null ? items.length > first : args.before != null,
      hasPreviousPage: last != null ? items.length > last : args.after != null,
      startCursor: page[0] ? cursorOf(page[0]) : null,
      endCursor: page.length ? cursorOf(page[page.length - 1]!) : null,
    },
  };
}

function pullRequestById(ctx: GraphContext, id: string): { repo: BareRepository; pr: PullRequestRecord } {
  const pr = ctx.store.get(id);
  const [owner = '', name = ''] = (pr?.repository ?? '').split('/');
  if (!pr) throw notFound(`Could not resolve to a node with the global id of '${id}'`);
  return { repo: findRepository(ctx, owner, name, `Could not resolve to a node with the global id of '${id}'`), pr };
}

function refById(ctx: GraphContext, id: string): { repo: BareRepository; name: string } {
  const key = parseNodeId(id, 'REF').key;
  const [nwo = '', name = ''] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  const [owner = '', repoName = ''] = nwo.split('/');
  return { repo: findRepository(ctx, owner, repoName, `Could not resolve to a node with the global id of '${id}'`), name };
}

const openConflict = (ctx: GraphContext, repo: BareRepository, head: string, base: string, except?: string) =>
  ctx.store
    .list(repo.nameWithOwner)
    .find((pr) => pr.state === 'OPEN' && pr.headRefName === head && pr.baseRefName === base && pr.id !== except);

/** Query and Mutation fields. */
export const rootValue = {
  repository: ({ owner, name }: Args, ctx: GraphContext) => repositoryObject(ctx, findRepository(ctx, String(owner), String(name))),

  viewer: (_: Args, ctx: GraphContext) => user(ctx, ctx.viewer.login),

  rateLimit: (_: Args, ctx: GraphContext) => ({
    ...ctx.rateLimit,
    nodeCount: 0,
    resetAt: ctx.rateLimit.resetAt.toISOString(),
  }),

  node: async ({ id }: Args, ctx: GraphContext) => {
    const { kind, key } = parseNodeId(String(id));
    if (kind === 'R') return repositoryObject(ctx, repositoryById(ctx, String(id)));
    if (kind === 'U') return user(ctx, key);
    if (kind === 'PR') {
      const { repo, pr } = pullRequestById(ctx, String(id));
      return pullRequestObject(ctx, repo, pr);
    }
    if (kind === 'REF') {
      const { repo, name } = refById(ctx, String(id));
      const ref = await repo.readRef(name);
      if (!ref) throw notFound(`Could not resolve to a node with the global id of '${String(id)}'`);
      return refObject(ctx, repo, ref);
    }
    const [nwo = '', oid = ''] = key.split(':');
    const [owner = '', name = ''] = nwo.split('/');
    const repo = findRepository(ctx, owner, name);
    if (!(await repo.isCommit(oid))) throw notFound(`Could not resolve to a node with the global id of '${String(id)}'`);
    return commitObject(ctx, repo, oid);
  },

  createRef: async ({ input }: Args, ctx: GraphContext) => {
    const { repositoryId, name, oid, clientMutationId } = input as Input;
    const repo = repositoryById(ctx, String(repositoryId));
    requireWrite(ctx);
    if (!(await repo.isCommit(String(oid)))) throw unprocessable(`Object ${String(oid)} does not exist in ${repo.nameWithOwner}.`);
    if (await repo.readRef(String(name)).then((r) => r?.name === name)) throw unprocessable('Reference already exists');
    await repo.writeRef(String(name), String(oid), null);
    return { clientMutationId, ref: refObject(ctx, repo, { name: String(name), oid: String(oid) }) };
  },

  updateRef: async ({ input }: Args, ctx: GraphContext) => {
    const { refId, oid, force, clientMutationId } = input as Input;
    const { repo, name } = refById(ctx, String(refId));
    requireWrite(ctx);
    const current = await repo.readRef(name);
    if (!current) throw notFound(`Could not resolve to a node with the global id of '${String(refId)}'`);
    if (!(await repo.isCommit(String(oid)))) throw unprocessable(`Object ${String(oid)} does not exist in ${repo.nameWithOwner}.`);
    if (!force && !(await repo.isAncestor(current.oid, String(oid)))) throw unprocessable('Update is not a fast forward');
    await repo.writeRef(name, String(oid), current.oid);
    return { clientMutationId, ref: refObject(ctx, repo, { name, oid: String(oid) }) };
  },

  createPullRequest: async ({ input }: Args, ctx: GraphContext) => {
    const { repositoryId, baseRefName, headRefName, title, body, draft, clientMutationId } = input as Input;
    const repo = repositoryById(ctx, String(repositoryId));
    requireWrite(ctx);
    const base = String(baseRefName);
    const [headOwner, headBranch] = String(headRefName).includes(':')
      ? String(headRefName).split(/:(.*)/s)
      : [repo.owner, String(headRefName)];
    if (headOwner !== repo.owner) throw unprocessable(`Head repository ${headOwner}/${repo.name} is not emulated (no forks).`);
    const head = headBranch!;
    const baseRef = await repo.readRef(`refs/heads/${base}`);
    if (!baseRef) throw unprocessable(`Base ref must be a branch: "${base}" does not exist.`);
    const headRef = await repo.readRef(`refs/heads/${head}`);
    if (!headRef) throw unprocessable(`Head sha can't be blank, Head ref must be a branch: "${head}" does not exist.`);
    if (openConflict(ctx, repo, head, base)) throw unprocessable(`A pull request already exists for ${repo.owner}:${head}.`);
    if ((await repo.commitsAhead(baseRef.oid, headRef.oid)) === 0) throw unprocessable(`No commits between ${base} and ${head}`);
    const pr = ctx.store.create(
      {
        repository: repo.nameWithOwner,
        title: String(title),
        body: body == null ? '' : String(body),
        state: 'OPEN',
        isDraft: Boolean(draft),
        baseRefName: base,
        headRefName: head,
        headRefOid: headRef.oid,
        author: ctx.viewer.login,
      },
      (number) => nodeId('PR', `${repo.nameWithOwner}#${number}`),
    );
    return { clientMutationId, pullRequest: pullRequestObject(ctx, repo, pr) };
  },

  updatePullRequest: async ({ input }: Args, ctx: GraphContext) => {
    const { pullRequestId, title, body, baseRefName, state, clientMutationId } = input as Input;
    const { repo, pr } = pullRequestById(ctx, String(pullRequestId));
    requireWrite(ctx);
    const base = baseRefName == null ? pr.baseRefName : String(baseRefName);
    if (baseRefName != null && !(await repo.readRef(`refs/heads/${base}`))) {
      throw unprocessable(`Base ref must be a branch: "${base}" does not exist.`);
    }
    const nextState = state == null ? pr.state : (String(state) as 'OPEN' | 'CLOSED');
    if (pr.state === 'MERGED' && state != null) throw unprocessable('A merged pull request cannot be reopened or closed.');
    if (nextState === 'OPEN' && openConflict(ctx, repo, pr.headRefName, base, pr.id)) {
      throw unprocessable(`A pull request already exists for ${repo.owner}:${pr.headRefName}.`);
    }
    const updated = ctx.store.update(pr.id, {
      ...(title != null && { title: String(title) }),
      ...(body != null && { body: String(body) }),
      baseRefName: base,
      state: nextState,
    });
    return { clientMutationId, actor: user(ctx, ctx.viewer.login), pullRequest: pullRequestObject(ctx, repo, updated) };
  },

  addComment: async ({ input }: Args, ctx: GraphContext) => {
    const { subjectId, body, clientMutationId } = input as Input;
    const { repo, pr } = pullRequestById(ctx, String(subjectId));
    if (String(body ?? '').trim() === '') throw unprocessable('Body cannot be blank.');
    const comment = { id: nodeId('IC', `${pr.id}:${(pr.comments ?? []).length + 1}`), author: ctx.viewer.login, body: String(body), createdAt: new Date().toISOString() };
    const updated = ctx.store.update(pr.id, { comments: [...(pr.comments ?? []), comment] });
    const node = commentObject(ctx, repo, updated, comment);
    return { clientMutationId, commentEdge: { cursor: Buffer.from(comment.id).toString('base64'), node }, subject: pullRequestObject(ctx, repo, updated), timelineEdge: null };
  },

  closePullRequest: async ({ input }: Args, ctx: GraphContext) => {
    const { pullRequestId, clientMutationId } = input as Input;
    const { repo, pr } = pullRequestById(ctx, String(pullRequestId));
    requireWrite(ctx);
    if (pr.state === 'MERGED') throw unprocessable('A merged pull request cannot be closed.');
    const updated = pr.state === 'CLOSED' ? pr : ctx.store.update(pr.id, { state: 'CLOSED' });
    return { clientMutationId, pullRequest: pullRequestObject(ctx, repo, updated) };
  },

  mergePullRequest: async ({ input }: Args, ctx: GraphContext) => {
    const { pullRequestId, commitHeadline, commitBody, expectedHeadOid, mergeMethod, clientMutationId } = input as Input;
    const { repo, pr } = pullRequestById(ctx, String(pullRequestId));
    requireWrite(ctx);
    if (pr.state !== 'OPEN') throw unprocessable(`Pull request is not mergeable: it is ${pr.state.toLowerCase()}.`);
    if (mergeMethod != null && mergeMethod !== 'MERGE') throw unprocessable(`The emulator merges with MERGE commits only, not ${String(mergeMethod)}.`);
    const [base, head] = [await repo.readRef(`refs/heads/${pr.baseRefName}`), await repo.readRef(`refs/heads/${pr.headRefName}`)];
    if (!base || !head) throw unprocessable('Pull request is not mergeable: its base or head branch is gone.');
    if (expectedHeadOid != null && expectedHeadOid !== head.oid) throw new GitHubError('STALE_DATA', `Head branch was modified. Review and try the merge again.`);
    const headline = commitHeadline == null ? `Merge pull request #${pr.number} from ${repo.owner}/${pr.headRefName}` : String(commitHeadline);
    const message = `${headline}\n\n${commitBody == null ? pr.title : String(commitBody)}`.trimEnd();
    const oid = await repo.mergeCommit(base.oid, head.oid, message, { name: ctx.viewer.login, email: `${ctx.viewer.login}@users.noreply.github.com` });
    if (!oid) throw unprocessable('Pull request is not mergeable: the merge has conflicts.');
    await repo.writeRef(base.name, oid, base.oid);
    const updated = ctx.store.update(pr.id, { state: 'MERGED', mergedAt: new Date().toISOString(), mergeCommitOid: oid, headRefOid: head.oid });
    return { clientMutationId, actor: user(ctx, ctx.viewer.login), pullRequest: pullRequestObject(ctx, repo, updated) };
  },

  createCommitOnBranch: async ({ input }: Args, ctx: GraphContext) => {
    const { branch, expectedHeadOid, fileChanges, message, clientMutationId } = input as Input;
    const { repositoryNameWithOwner, repositoryId, branchName } = branch as Input;
    const [owner = '', name = ''] = String(repositoryNameWithOwner ?? '').split('/');
    const repo = repositoryId != null ? repositoryById(ctx, String(repositoryId)) : findRepository(ctx, owner, name);
    requireWrite(ctx);
    const qualified = String(branchName).startsWith('refs/heads/') ? String(branchName) : `refs/heads/${String(branchName)}`;
    const head = await repo.readRef(qualified);
    if (!head) throw notFound(`A ref named "${qualified}" does not exist in ${repo.nameWithOwner}.`);
    if (head.oid !== expectedHeadOid) throw new GitHubError('STALE_DATA', `Expected branch to point to "${String(expectedHeadOid)}" but it did not. Pull and try again.`);
    const changes = (fileChanges ?? {}) as { additions?: { path: string; contents: string }[] | null; deletions?: { path: string }[] | null };
    const seen = new Set<string>();
    const checkPath = (path: string) => {
      const parts = path.split('/');
      if (!path || path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..' || p.toLowerCase() === '.git')) throw unprocessable(`Path "${path}" is invalid.`);
      if (seen.has(path)) throw unprocessable(`Path "${path}" appears more than once in the file changes.`);
      seen.add(path);
    };
    const additions = (changes.additions ?? []).map((file) => {
      checkPath(file.path);
      // GitHub takes padded base64 only.
      if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(file.contents)) throw unprocessable(`The contents of "${file.path}" are not valid base64.`);
      return { path: file.path, contents: Buffer.from(file.contents, 'base64') };
    });
    const deletions = (changes.deletions ?? []).map((file) => (checkPath(file.path), file.path));
    const { headline, body } = message as { headline: string; body?: string | null };
    if (String(headline).trim() === '' || String(headline).includes('\n')) throw unprocessable('The commit headline must be one line of text.');
    const text = body ? `${headline}\n\n${body}` : String(headline);
    const login = ctx.viewer.login;
    const oid = await repo.commitFiles(head.oid, { additions, deletions }, text.endsWith('\n') ? text : `${text}\n`, { name: login, email: `${login.replace(/\[bot\]$/, '')}@users.noreply.github.com` });
    await repo.writeRef(head.name, oid, head.oid);
    ctx.store.markSigned(oid);
    return { clientMutationId, commit: commitObject(ctx, repo, oid), ref: refObject(ctx, repo, { name: head.name, oid }) };
  },

  deleteRef: async ({ input }: Args, ctx: GraphContext) => {
    const { refId, clientMutationId } = input as Input;
    const { repo, name } = refById(ctx, String(refId));
    requireWrite(ctx);
    const current = await repo.readRef(name);
    if (!current) throw notFound(`Could not resolve to a node with the global id of '${String(refId)}'`);
    await repo.deleteRef(current.name, current.oid);
    return { clientMutationId };
  },
};
