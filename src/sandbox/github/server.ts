import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execute, getOperationAST, GraphQLError, parse, validate, type DocumentNode } from 'graphql';
import { AppRegistry, type EmulatorApp } from './apps.js';
import { GitHubError } from './errors.js';
import { FAULT_KINDS, faultAnswer, Faults, faultProblem, type Fault, type FaultKind } from './faults.js';
import { serveGit, gitRequestToken } from './git-http.js';
import { pullRequestUrl, rootValue, type GraphContext, type Permission, type RateLimitState, type Viewer } from './graph.js';
import { BareRepository } from './repos.js';
import { githubSchema } from './schema.js';
import { PullRequestStore, type PullRequestRecord } from './store.js';

export interface EmulatorToken {
  login: string;
  permission: Permission;
  /** `owner/name` the token can see; every repository in gitRoot when absent. */
  repositories?: string[];
}

export interface GitHubEmulatorOptions {
  port?: number;
  host?: string;
  /**
   * Serve through `handle` at this URL (mounted under another server) instead of listening on a port
   * of its own: the addresses, and so every stored pull request link, stay the same across restarts.
   */
  publicUrl?: string;
  /** Bare repositories `<gitRoot>/<owner>/<name>.git`. */
  gitRoot: string;
  tokens: Record<string, EmulatorToken>;
  /** Where pull requests are kept across restarts. */
  stateFile?: string;
  /** Points an hour per token (GitHub: 5,000). */
  rateLimit?: number;
  /** GitHub Apps by id: their public keys and installations (installation tokens are minted for them). */
  apps?: Record<string, EmulatorApp>;
  /** How long an installation token lasts (GitHub: one hour). */
  appTokenTtlMs?: number;
}

/** One request as the emulator saw it; variables whose names suggest a secret are redacted. */
export interface RecordedRequest {
  at: number;
  kind: 'graphql' | 'git' | 'rest';
  method: string;
  path: string;
  operationName: string | null;
  operationType: string | null;
  variables: Record<string, unknown> | null;
  status: number;
  errorTypes: string[];
  login: string | null;
  fault: FaultKind | null;
}

export interface PullRequestView extends PullRequestRecord {
  url: string;
}

export interface GitHubEmulator {
  /** Base URL for the GitHub client (it posts to `${url}/graphql`). */
  url: string;
  /** Base URL for git: `${gitBaseUrl}/owner/name.git`, token as the password. */
  gitBaseUrl: string;
  stop(): Promise<void>;
  requests(): RecordedRequest[];
  pullRequests(repository?: string): PullRequestView[];
  inject(fault: Fault | Fault[]): void;
  faults(): Fault[];
  /** Clears faults, the request log and rate budgets; pull requests too when asked. */
  reset(options?: { pullRequests?: boolean }): void;
  /**
   * Runs `fn` once, just before the next request for `operationName` executes (to stage races); for git
   * over HTTP, `git-upload-pack` (a fetch) or `git-receive-pack` (a push), awaited before it is served.
   */
  beforeOperation(operationName: string, fn: () => unknown): void;
  /** The request handler, for mounting under `publicUrl` (requests arrive with that prefix removed). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The GitHub Apps: installation tokens minted, expired or revoked, installations removed. */
  apps: AppRegistry;
}

const DOCS = 'https://docs.github.com/graphql';
const HOUR = 3600_000;
/** What GitHub reports to a caller it does not know. */
const anonymousBudget = () => ({ limit: 60, used: 0, resetAt: new Date(Date.now() + HOUR) });
const MAX_BODY = 10 * 1024 * 1024;

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

/**
 * A local GitHub: `POST /graphql` executes GitHub's real schema (from @octokit/graphql-schema) against
 * the bare repositories in gitRoot and pull requests kept in memory (and `stateFile`); the same
 * repositories are served to git over HTTP. `/_emulator/*` injects faults and shows what was asked.
 */
export async function startGitHubEmulator(options: GitHubEmulatorOptions): Promise<GitHubEmulator> {
  const schema = githubSchema();
  const store = new PullRequestStore(options.stateFile);
  const faults = new Faults();
  const log: RecordedRequest[] = [];
  const budgets = new Map<string, { used: number; resetAt: Date }>();
  const hooks = new Map<string, (() => unknown)[]>();
  const limit = options.rateLimit ?? 5000;
  const apps = new AppRegistry(structuredClone(options.apps ?? {}), options.appTokenTtlMs);
  /** A configured token, or an installation token minted here and still valid. */
  const accountOf = (token: string | undefined): EmulatorToken | undefined =>
    token === undefined ? undefined : (options.tokens[token] ?? apps.account(token));
  let mutations: Promise<unknown> = Promise.resolve();
  let baseUrl = '';

  const budget = (login: string) => {
    let entry = budgets.get(login);
    if (!entry || entry.resetAt.getTime() <= Date.now()) {
      entry = { used: 0, resetAt: new Date(Math.ceil((Date.now() + HOUR) / 1000) * 1000) };
      budgets.set(login, entry);
    }
    return entry;
  };
  const rateHeaders = (state: { limit: number; used: number; resetAt: Date }) => ({
    'x-ratelimit-limit': String(state.limit),
    'x-ratelimit-remaining': String(Math.max(0, state.limit - state.used)),
    'x-ratelimit-used': String(state.used),
    'x-ratelimit-reset': String(Math.floor(state.resetAt.getTime() / 1000)),
    'x-ratelimit-resource': 'graphql',
  });

  async function graphqlRequest(req: IncomingMessage, entry: RecordedRequest): Promise<{ status: number; headers: Record<string, string>; body: unknown }> {
    const payload = await readJson(req);
    const query = typeof payload.query === 'string' ? payload.query : undefined;
    const operationName = typeof payload.operationName === 'string' ? payload.operationName : undefined;
    const variables = isObject(payload.variables) ? payload.variables : {};
    entry.variables = redactVariables(variables);

    let document: DocumentNode | undefined;
    let syntaxError: GraphQLError | undefined;
    try {
      if (query !== undefined) document = parse(query);
    } catch (e) {
      syntaxError = e instanceof GraphQLError ? e : new GraphQLError(String(e));
    }
    const operation = document ? getOperationAST(document, operationName) : null;
    entry.operationName = operation?.name?.value ?? null;
    entry.operationType = operation?.operation ?? null;

    const fault = faults.take(entry.operationName, entry.operationType);
    entry.fault = fault?.kind ?? null;
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const account = accountOf(token);
    if (!account || fault?.kind === 'BAD_CREDENTIALS') {
      const message = token === undefined ? 'This endpoint requires you to be authenticated.' : 'Bad credentials';
      return { status: 401, headers: rateHeaders(anonymousBudget()), body: { message, documentation_url: DOCS, status: '401' } };
    }
    entry.login = account.login;
    const spent = budget(account.login);
    const exhausted = spent.used >= limit;
    if (!exhausted) spent.used++;
    const rate: RateLimitState = { cost: 1, limit, used: spent.used, remaining: limit - spent.used, resetAt: spent.resetAt };
    const headers = rateHeaders({ limit, used: spent.used, resetAt: spent.resetAt });

    if (fault) {
      const answer = faultAnswer(fault, operation, headers);
      if (answer) return answer;
    }
    if (exhausted) {
      return { status: 200, headers, body: { errors: [{ type: 'RATE_LIMITED', message: `API rate limit exceeded for user ${account.login}.` }] } };
    }
    if (query === undefined) return { status: 200, headers, body: { errors: [{ message: 'A query attribute must be specified and must be a string.' }] } };
    if (syntaxError || !document) return { status: 200, headers, body: { errors: [shapeError(syntaxError!)] } };
    const invalid = validate(schema, document);
    if (invalid.length) return { status: 200, headers, body: { errors: invalid.map(shapeError) } };

    // Hooks run outside the mutation queue, so one may itself send a mutation (a competing client).
    for (const hook of hooks.get(entry.operationName ?? '')?.splice(0) ?? []) await hook();
    const run = async () => {
      const viewer: Viewer = { login: account.login, permission: account.permission, repositories: account.repositories };
      const context: GraphContext = { gitRoot: options.gitRoot, baseUrl, store, viewer, rateLimit: rate };
      return execute({ schema, document, rootValue, contextValue: context, variableValues: variables, operationName });
    };
    // One mutation at a time, as GitHub's uniqueness checks (one open pull request per head and base) need.
    const result = operation?.operation === 'mutation' ? await (mutations = mutations.then(run, run)) : await run();
    const body: Record<string, unknown> = {};
    if (result.data !== undefined) body.data = result.data;
    if (result.errors?.length) body.errors = result.errors.map(shapeError);
    return { status: 200, headers, body };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const path = url.pathname;
    if (path.startsWith('/_emulator/')) return control(req, res, path);

    const gitPath = /^\/([^/]+)\/([^/]+)\.git(\/.*)$/.exec(path);
    if (gitPath) {
      const account = accountOf(gitRequestToken(req));
      const repository = `${gitPath[1]}/${gitPath[2]}`;
      const visible = !account?.repositories || account.repositories.some((r) => r.toLowerCase() === repository.toLowerCase());
      const entry = record('git', req, path, account?.login ?? null);
      res.on('finish', () => (entry.status = res.statusCode));
      if (!new BareRepository(options.gitRoot, gitPath[1]!, gitPath[2]!).exists() || (account && !visible)) {
        send(res, 404, { message: 'Repository not found.' });
        return;
      }
      const caller = account && { login: account.login, canRead: true, canWrite: ['ADMIN', 'MAINTAIN', 'WRITE'].includes(account.permission) };
      // `beforeOperation('git-upload-pack', fn)` holds the next fetch request (POST) until fn settles.
      if (req.method === 'POST') for (const hook of hooks.get(gitPath[3]!.split('/').pop()!)?.splice(0) ?? []) await hook();
      serveGit(req, res, options.gitRoot, path, caller ?? null);
      return;
    }

    const prPage = /^\/([^/]+\/[^/]+)\/pull\/(\d+)(?:\/(merge|close))?$/.exec(path);
    if (prPage) return pullRequestPage(req, res, prPage[1]!, Number(prPage[2]), prPage[3] as 'merge' | 'close' | undefined);

    const minting = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    const lookup = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(path);
    if ((minting && req.method === 'POST') || (lookup && req.method === 'GET')) {
      const entry = record('rest', req, path, null);
      entry.operationName = minting ? 'createInstallationAccessToken' : 'getRepoInstallation';
      for (const hook of hooks.get(entry.operationName)?.splice(0) ?? []) await hook();
      const answer = minting
        ? apps.mint(req.headers.authorization, Number(minting[1]))
        : apps.installationFor(req.headers.authorization, `${lookup![1]}/${lookup![2]}`, new BareRepository(options.gitRoot, lookup![1]!, lookup![2]!).exists());
      entry.status = answer.status;
      send(res, answer.status, answer.body);
      return;
    }

    if (path === '/graphql' && req.method === 'POST') {
      const entry = record('graphql', req, path, null);
      let answer;
      try {
        answer = await graphqlRequest(req, entry);
      } catch (e) {
        if (!(e instanceof RequestError)) throw e;
        answer = { status: e.status, headers: rateHeaders(anonymousBudget()), body: e.body };
      }
      entry.status = answer.status;
      const errors = (answer.body as { errors?: { type?: string }[] }).errors ?? [];
      entry.errorTypes = errors.map((e) => e.type).filter((t): t is string => typeof t === 'string');
      send(res, answer.status, answer.body, answer.headers);
      return;
    }
    send(res, 404, { message: 'Not Found', documentation_url: DOCS });
  }

  /**
   * The pull request's page, as a person opens the url a run stored: title, body, diff and buttons to
   * merge or close it (the emulator's stand-in for github.com, so a sandbox feature can be taken to its
   * end in the browser). Clients that ask for JSON get the record.
   */
  async function pullRequestPage(req: IncomingMessage, res: ServerResponse, repository: string, number: number, action?: 'merge' | 'close'): Promise<void> {
    const pr = store.list(repository).find((p) => p.number === number);
    if (!pr) return send(res, 404, { message: 'Not Found' });
    const [owner = '', name = ''] = repository.split('/');
    const repo = new BareRepository(options.gitRoot, owner, name);
    if (action) {
      if (req.method !== 'POST') return send(res, 405, { message: 'Use POST' });
      const owners = Object.values(options.tokens).filter((t) => t.permission === 'ADMIN');
      const viewer: Viewer = { login: owners[0]?.login ?? 'sandbox-maintainer', permission: 'ADMIN' };
      const ctx: GraphContext = { gitRoot: options.gitRoot, baseUrl, store, viewer, rateLimit: { cost: 0, limit, used: 0, remaining: limit, resetAt: new Date() } };
      let problem: string | null = null;
      try {
        const field = action === 'merge' ? rootValue.mergePullRequest : rootValue.closePullRequest;
        await field({ input: { pullRequestId: pr.id } }, ctx);
      } catch (e) {
        problem = e instanceof Error ? e.message : String(e);
      }
      // Relative to …/pull/N/merge, so that it also works where the emulator is mounted below a prefix.
      res.writeHead(303, { location: `../${number}${problem ? `?problem=${encodeURIComponent(problem)}` : ''}` }).end();
      return;
    }
    if (!/text\/html/.test(req.headers.accept ?? '')) return send(res, 200, { ...pr, url: pullRequestUrl(baseUrl, pr) });
    const [base, head] = [await repo.readRef(`refs/heads/${pr.baseRefName}`), await repo.readRef(`refs/heads/${pr.headRefName}`)];
    const diff = base && head ? await repo.diff(base.oid, head.oid) : '(a branch of this pull request is gone)';
    const problem = new URL(req.url ?? '/', 'http://emulator').searchParams.get('problem');
    const esc = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const buttons =
      pr.state === 'OPEN'
        ? `<form method="post" action="${number}/merge"><button>Merge pull request</button></form><form method="post" action="${number}/close"><button>Close pull request</button></form>`
        : '';
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(pr.title)} · #${number}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f6f8fa;padding:1rem;overflow:auto}form{display:inline-block;margin-right:.5rem}.state{font-weight:bold}</style></head>
<body><p><em>GitHub emulator (sandbox)</em> · ${esc(repository)}</p>
<h1>${esc(pr.title)} <span>#${number}</span></h1>
<p class="state" data-state="${pr.state}">${pr.state}</p><p>${esc(pr.headRefName)} → ${esc(pr.baseRefName)}</p>
${problem ? `<p role="alert">${esc(problem)}</p>` : ''}${buttons}
<h2>Description</h2><pre>${esc(pr.body)}</pre>
${(pr.comments ?? []).map((c) => `<h3>Comment by ${esc(c.author)}</h3><pre>${esc(c.body)}</pre>`).join('\n')}
<h2>Files changed</h2><pre class="diff">${esc(diff)}</pre></body></html>`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  }

  function record(kind: RecordedRequest['kind'], req: IncomingMessage, path: string, login: string | null): RecordedRequest {
    const entry: RecordedRequest = {
      at: Date.now(),
      kind,
      method: req.method ?? 'GET',
      path,
      operationName: null,
      operationType: null,
      variables: null,
      status: 0,
      errorTypes: [],
      login,
      fault: null,
    };
    log.push(entry);
    return entry;
  }

  async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/_emulator/requests' && req.method === 'GET') return send(res, 200, log);
    if (path === '/_emulator/pull-requests' && req.method === 'GET') return send(res, 200, emulator.pullRequests());
    if (path === '/_emulator/faults' && req.method === 'GET') return send(res, 200, faults.list());
    if (path === '/_emulator/faults' && req.method === 'DELETE') {
      faults.clear();
      return send(res, 200, []);
    }
    if (path === '/_emulator/faults' && req.method === 'POST') {
      const body: unknown = await readJson(req, true).catch(() => undefined);
      const list = Array.isArray(body) ? body : [body];
      const problem = list.map(faultProblem).find(Boolean);
      if (problem) return send(res, 422, { message: problem, kinds: FAULT_KINDS });
      emulator.inject(list as Fault[]);
      return send(res, 201, faults.list());
    }
    if (path === '/_emulator/reset' && req.method === 'POST') {
      const body = (await readJson(req, true).catch(() => ({}))) as { pullRequests?: boolean } | null;
      emulator.reset({ pullRequests: body?.pullRequests === true });
      return send(res, 200, { reset: true });
    }
    send(res, 404, { message: 'Not Found' });
  }

  const serve = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, { message: `Emulator error: ${e instanceof Error ? e.message : String(e)}` });
      else res.end();
    });
  };
  let server: ReturnType<typeof createServer> | null = null;
  if (options.publicUrl) baseUrl = options.publicUrl.replace(/\/+$/, '');
  else {
    const listening = createServer(serve);
    server = listening;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    const address = listening.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    baseUrl = `http://${host}:${address.port}`;
  }

  const emulator: GitHubEmulator = {
    url: baseUrl,
    gitBaseUrl: baseUrl,
    handle: serve,
    apps,
    stop: () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    requests: () => log.map((entry) => ({ ...entry })),
    pullRequests: (repository) => store.list(repository).map((pr) => ({ ...pr, url: pullRequestUrl(baseUrl, pr) })),
    inject: (fault) => (Array.isArray(fault) ? fault : [fault]).forEach((f) => faults.add(f)),
    faults: () => faults.list(),
    reset: (resetOptions) => {
      faults.clear();
      log.length = 0;
      budgets.clear();
      hooks.clear();
      if (resetOptions?.pullRequests) store.clear();
    },
    beforeOperation: (operationName, fn) => hooks.set(operationName, [...(hooks.get(operationName) ?? []), fn]),
  };
  return emulator;
}

/** `{ type, path, locations, message }` for resolver errors; `{ message, locations }` for validation ones. */
function shapeError(error: GraphQLError): Record<string, unknown> {
  const shaped: Record<string, unknown> = {};
  const original = error.originalError;
  if (original instanceof GitHubError) shaped.type = original.type;
  else if (original && !(original instanceof GraphQLError)) shaped.type = 'INTERNAL';
  if (error.path) shaped.path = error.path;
  if (error.locations) shaped.locations = error.locations;
  shaped.message = error.message;
  return shaped;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SECRET_NAME = /token|secret|password|authorization|credential/i;

function redactVariables(value: Record<string, unknown>): Record<string, unknown> {
  const walk = (v: unknown, key = ''): unknown => {
    if (SECRET_NAME.test(key)) return '[redacted]';
    if (Array.isArray(v)) return v.map((item) => walk(item));
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, k)]));
    return v;
  };
  return walk(value) as Record<string, unknown>;
}

async function readJson(req: IncomingMessage, allowEmpty = false): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new RequestError(413, { message: 'Request body too large' });
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (allowEmpty && text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (!allowEmpty && !isObject(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    throw new RequestError(400, { message: 'Problems parsing JSON', documentation_url: DOCS });
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'x-github-request-id': randomUUID().toUpperCase().slice(0, 18),
    ...headers,
  });
  res.end(text);
}
