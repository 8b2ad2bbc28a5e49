import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { invalidOutcome, type ScriptedOutcome, type TaskOutcome } from './outcomes.js';
import { createTask, pollView, restoreTask, siblingTurns, storedTask, taskDetails, taskListItem, type EmulatedTask, type EmulatorEnvironment, type StoredTask } from './tasks.js';
import { TokenAuthority, type EmulatorAccount, type IssuedLogin } from './tokens.js';

/**
 * A local Codex Cloud: the `/backend-api/wham` task API, the sign-in endpoints of auth.openai.com and
 * a control API under `/_emulator` for tests in this or another process. Faithful to what the Codex
 * CLI sends and reads (shared/reference/codex-cloud); finished tasks are kept in `stateFile` when given.
 */
export interface CodexEmulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /**
   * Serve through `handle` at this URL (mounted under another server) instead of listening on a port
   * of its own: the addresses, and so every stored task link, stay the same across restarts.
   */
  publicUrl?: string;
  /** Where finished tasks are kept across restarts, so their pages and details still answer. */
  stateFile?: string;
  /** Repository `owner/name` is the bare repository `${gitRoot}/owner/name.git`. */
  gitRoot: string;
  environments: EmulatorEnvironment[];
  account?: Partial<EmulatorAccount>;
  accessTokenTtlSeconds?: number;
}

/** One request as received, in the shape of shared/reference/codex-cloud/cli-requests.jsonl. */
export interface RecordedRequest {
  method: string;
  host: string | null;
  path: string;
  query: Record<string, string> | null;
  header_names: string[];
  user_agent: string | null;
  body: unknown;
}

export interface CodexEmulator {
  /** Point the client's `baseUrl` here. */
  baseUrl: string;
  /** Point the client's `authUrl` here. */
  authUrl: string;
  account: EmulatorAccount;
  /** Every request received except the control API's, oldest first. */
  requests(): RecordedRequest[];
  /** Queues outcomes for the next created tasks (`http-error` for the next requests). */
  script(...outcomes: ScriptedOutcome[]): void;
  issueLogin(options?: { ttlSeconds?: number }): IssuedLogin;
  issueAccessToken(): string;
  /** Writes a ChatGPT auth.json for a fresh sign-in and returns its tokens. */
  writeAuthFile(path: string, options?: { ttlSeconds?: number }): Promise<IssuedLogin>;
  /** Expires every access token issued so far (and the refresh tokens, when asked). */
  expireTokens(options?: { refreshTokens?: boolean }): void;
  /** How many refreshes succeeded. */
  refreshCount(): number;
  /** Forgets tasks, scripts and recorded requests; issued tokens stay valid. */
  reset(): void;
  /** Every task with when it was created and when a poll first saw it finished (epoch ms), oldest first. */
  tasks(): { id: string; prompt: string; createdAt: number; seenFinishedAt: number | null }[];
  /** The request handler, for mounting under `publicUrl` (requests arrive with that prefix removed). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  stop(): Promise<void>;
}

const CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';

type Json = Record<string, unknown>;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The create-task body, checked as strictly as the service's validation would; a string says what is wrong. */
function parseCreateTask(body: unknown) {
  const root = body as Json | null;
  const task = root?.new_task as Json | undefined;
  if (!task || typeof task.environment_id !== 'string') return 'new_task.environment_id is required';
  if (task.branch !== undefined && typeof task.branch !== 'string') return 'new_task.branch must be a string';
  if (typeof task.run_environment_in_qa_mode !== 'boolean') return 'new_task.run_environment_in_qa_mode is required';
  const items = root?.input_items;
  if (!Array.isArray(items) || items.length === 0) return 'input_items must be a non-empty list';
  let prompt: string | null = null;
  let startingDiff: string | null = null;
  for (const raw of items) {
    const item = raw as Json;
    if (item?.type === 'message') {
      const content = item.content as Json[] | undefined;
      if (item.role !== 'user' || !Array.isArray(content) || !content.every((c) => c?.content_type === 'text' && typeof c.text === 'string')) {
        return 'a message input item needs role "user" and text content';
      }
      prompt = [prompt, ...content.map((c) => c.text as string)].filter((t) => t !== null).join('\n');
    } else if (item?.type === 'pre_apply_patch') {
      const diff = (item.output_diff as Json | undefined)?.diff;
      if (typeof diff !== 'string') return 'a pre_apply_patch input item needs output_diff.diff';
      startingDiff = diff;
    } else {
      return `unknown input item type ${JSON.stringify(item?.type)}`;
    }
  }
  if (prompt === null) return 'input_items holds no user message';
  const metadata = root?.metadata as Json | undefined;
  const attempts = metadata?.best_of_n ?? 1;
  if (!Number.isInteger(attempts) || (attempts as number) < 1 || (attempts as number) > 4) return 'metadata.best_of_n must be 1 to 4';
  return { environmentId: task.environment_id, branch: (task.branch as string | undefined) ?? 'main', prompt, startingDiff, attempts: attempts as number, items };
}

export async function startCodexEmulator(options: CodexEmulatorOptions): Promise<CodexEmulator> {
  const host = options.host ?? '127.0.0.1';
  const account: EmulatorAccount = {
    id: 'acct_sandbox_0001',
    userId: 'user-sandbox-0001',
    email: 'sandbox@spec-chain.invalid',
    planType: 'pro',
    ...options.account,
  };
  const environments = options.environments.map((env) => ({ ...env }));
  let authority: TokenAuthority;
  let tasks: EmulatedTask[] = options.stateFile ? await loadTasks(options.stateFile, environments) : [];
  // One save at a time, each writing the tasks as they are when it starts.
  let saving: Promise<void> = Promise.resolve();
  const save = () => {
    const file = options.stateFile;
    if (!file) return saving;
    saving = saving.then(() => saveTasks(file, tasks)).catch(() => undefined);
    return saving;
  };
  let queue: TaskOutcome[] = [];
  let httpErrors: { status: number; remaining: number; retryAfterSeconds?: number; message?: string; method?: string; path?: string }[] = [];
  let slowAnswers: { delayMs: number; remaining: number; method?: string; pathPrefix?: string }[] = [];
  let recorded: RecordedRequest[] = [];
  // Agents still working, kept across reset() so stop() can wait for their checkouts to be removed.
  const running = new Set<Promise<unknown>>();

  function script(...outcomes: ScriptedOutcome[]): void {
    for (const outcome of outcomes) {
      if (outcome.kind === 'http-error') httpErrors.push({ ...outcome, remaining: outcome.count ?? 1 });
      else if (outcome.kind === 'slow') slowAnswers.push({ ...outcome, remaining: outcome.count ?? 1 });
      else queue.push(outcome);
    }
  }

  function record(req: IncomingMessage, url: URL, body: unknown): void {
    const query = Object.fromEntries(url.searchParams);
    recorded.push({
      method: req.method ?? 'GET',
      host: req.headers.host ?? null,
      path: url.pathname,
      query: Object.keys(query).length > 0 ? query : null,
      header_names: req.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase()),
      user_agent: req.headers['user-agent'] ?? null,
      body,
    });
  }

  async function backend(req: IncomingMessage, res: ServerResponse, path: string, url: URL, body: unknown): Promise<void> {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer) return send(res, 401, { detail: 'Missing bearer token.' });
    const verdict = authority.verify(bearer);
    if ('refused' in verdict) return send(res, 401, { detail: `Unauthorized: ${verdict.refused}.` });
    if (req.headers['chatgpt-account-id'] !== verdict.accountId) {
      return send(res, 403, { detail: 'ChatGPT-Account-Id is missing or is not the token\'s account.' });
    }
    const method = req.method ?? 'GET';
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const environmentRow = (env: EmulatorEnvironment) => ({
      id: env.id,
      label: env.label,
      is_pinned: env.isPinned ?? false,
      task_count: tasks.filter((task) => task.environment.id === env.id).length,
    });

    if (parts[0] !== 'wham') return send(res, 404, { detail: 'Not Found' });
    if (method === 'GET' && parts.length === 2 && parts[1] === 'environments') {
      return send(res, 200, environments.map(environmentRow));
    }
    if (method === 'GET' && parts.length === 6 && parts[1] === 'environments' && parts[2] === 'by-repo' && parts[3] === 'github') {
      const repository = `${parts[4]}/${parts[5]}`.toLowerCase();
      return send(res, 200, environments.filter((env) => env.repository.toLowerCase() === repository).map(environmentRow));
    }
    if (method === 'GET' && parts.length === 2 && parts[1] === 'usage') {
      const used = Math.min(100, tasks.length * 2);
      const window = (seconds: number) => ({ used_percent: used, limit_window_seconds: seconds, reset_after_seconds: seconds, reset_at: Math.floor(Date.now() / 1000) + seconds });
      return send(res, 200, {
        plan_type: account.planType,
        rate_limit: { allowed: used < 100, limit_reached: used >= 100, primary_window: window(18_000), secondary_window: window(604_800) },
        credits: { has_credits: false, unlimited: false, balance: null },
      });
    }
    if (method === 'POST' && parts.length === 2 && parts[1] === 'tasks') {
      const parsed = parseCreateTask(body);
      if (typeof parsed === 'string') return send(res, 422, { detail: parsed });
      const environment = environments.find((env) => env.id === parsed.environmentId);
      if (!environment) return send(res, 404, { detail: `Environment ${parsed.environmentId} not found.` });
      const task = createTask({
        environment,
        branch: parsed.branch,
        inputItems: parsed.items,
        prompt: parsed.prompt,
        startingDiff: parsed.startingDiff,
        attempts: parsed.attempts,
        outcome: queue.shift() ?? { kind: 'implement' },
        gitRoot: options.gitRoot,
      });
      tasks.push(task);
      running.add(task.result);
      void task.result.then(() => {
        running.delete(task.result);
        void save();
      });
      return send(res, 200, { task: { id: task.id, title: task.title, created_at: task.createdAt } });
    }
    if (method === 'GET' && parts.length === 3 && parts[1] === 'tasks' && parts[2] === 'list') {
      const limit = Number(url.searchParams.get('limit') ?? '20');
      if (!Number.isInteger(limit) || limit < 1 || limit > 20) return send(res, 422, { detail: 'limit must be 1 to 20' });
      const environmentId = url.searchParams.get('environment_id');
      const offset = Number(Buffer.from(url.searchParams.get('cursor') ?? '', 'base64url').toString('utf8') || '0');
      const matching = tasks.filter((task) => !environmentId || task.environment.id === environmentId).reverse();
      const page = matching.slice(offset, offset + limit);
      const more = offset + limit < matching.length;
      return send(res, 200, {
        items: page.map(taskListItem),
        cursor: more ? Buffer.from(String(offset + limit)).toString('base64url') : null,
      });
    }
    const task = parts[1] === 'tasks' ? tasks.find((candidate) => candidate.id === parts[2]) : undefined;
    if (method === 'GET' && parts.length === 3 && parts[1] === 'tasks') {
      if (!task) return send(res, 404, { detail: 'Task not found.' });
      return send(res, 200, taskDetails(task, await pollView(task)));
    }
    if (method === 'GET' && parts.length === 6 && parts[1] === 'tasks' && parts[3] === 'turns' && parts[5] === 'sibling_turns') {
      const siblings = task ? siblingTurns(task, parts[4]!) : null;
      return siblings ? send(res, 200, siblings) : send(res, 404, { detail: 'Turn not found.' });
    }
    return send(res, 404, { detail: 'Not Found' });
  }

  function refresh(res: ServerResponse, body: unknown): void {
    const request = body as Json | null;
    if (request?.client_id !== CLIENT_ID || request?.grant_type !== 'refresh_token' || typeof request?.refresh_token !== 'string') {
      return send(res, 400, { error: { message: 'Invalid refresh request.', type: 'invalid_request_error', code: 'invalid_request' } });
    }
    const issued = authority.refresh(request.refresh_token);
    if (typeof issued === 'string') {
      return send(res, 401, { error: { message: 'Your refresh token cannot be used. Please sign in again.', type: 'invalid_request_error', code: issued } });
    }
    send(res, 200, { id_token: issued.id_token, access_token: issued.access_token, refresh_token: issued.refresh_token });
  }

  /** The task's page a snapshot's `url` points at, so a link in the demo leads somewhere. */
  function taskPage(res: ServerResponse, taskId: string): void {
    const task = tasks.find((candidate) => candidate.id === decodeURIComponent(taskId));
    if (!task) return send(res, 404, { detail: 'Task not found.' });
    const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const state = task.settled ? task.settled.turnStatus : 'in_progress';
    const html = `<!doctype html><title>${escape(task.title)}</title><h1>${escape(task.title)}</h1><p>${escape(task.id)} in ${escape(task.environment.label)}: ${state}</p>`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  }

  function whoami(req: IncomingMessage, res: ServerResponse): void {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const verdict = bearer ? authority.verify(bearer) : { refused: 'missing bearer token' };
    if ('refused' in verdict) return send(res, 401, { detail: `Unauthorized: ${verdict.refused}.` });
    send(res, 200, {
      email: account.email,
      chatgpt_user_id: account.userId,
      chatgpt_account_id: verdict.accountId,
      chatgpt_plan_type: account.planType,
      chatgpt_account_is_fedramp: false,
    });
  }

  function control(req: IncomingMessage, res: ServerResponse, path: string, body: unknown): void {
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/_emulator/requests') return send(res, 200, recorded);
    if (method === 'POST' && path === '/_emulator/script') {
      const root = body as Json | unknown[] | null;
      const outcomes = (Array.isArray(root) ? root : Array.isArray((root as Json | null)?.outcomes) ? (root as Json).outcomes : [root]) as unknown[];
      const problem = outcomes.map(invalidOutcome).find((p) => p !== null);
      if (problem) return send(res, 400, { detail: problem });
      script(...(outcomes as ScriptedOutcome[]));
      return send(res, 200, { queued: queue.length, httpErrors: httpErrors.length });
    }
    if (method === 'POST' && path === '/_emulator/tokens/expire') {
      authority.expireAll((body as Json | null)?.refreshTokens === true);
      return send(res, 200, { expired: true });
    }
    if (method === 'POST' && path === '/_emulator/login') {
      const ttl = (body as Json | null)?.ttlSeconds;
      return send(res, 200, authority.issueLogin(typeof ttl === 'number' ? ttl : undefined));
    }
    if (method === 'POST' && path === '/_emulator/access-token') return send(res, 200, { token: authority.issueAccessToken() });
    if (method === 'POST' && path === '/_emulator/reset') {
      reset();
      return send(res, 200, { reset: true });
    }
    send(res, 404, { detail: 'Not Found' });
  }

  function reset(): void {
    tasks = [];
    queue = [];
    httpErrors = [];
    slowAnswers = [];
    recorded = [];
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const text = await readBody(req);
    let body: unknown = null;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        return send(res, 400, { detail: 'The body is not JSON.' });
      }
    }
    if (url.pathname.startsWith('/_emulator/')) return control(req, res, url.pathname, body);
    record(req, url, body);
    const slow = takeScripted(slowAnswers, (e) => (!e.method || e.method === req.method) && (!e.pathPrefix || url.pathname.startsWith(e.pathPrefix)));
    if (slow) await new Promise((r) => setTimeout(r, slow.delayMs));
    const injected = takeScripted(httpErrors, (e) => (!e.method || e.method === req.method) && (!e.path || e.path === url.pathname));
    if (injected) {
      const headers: Record<string, string> = injected.retryAfterSeconds !== undefined ? { 'retry-after': String(injected.retryAfterSeconds) } : {};
      return send(res, injected.status, { detail: injected.message ?? `Emulated HTTP ${injected.status}.` }, headers);
    }
    if (url.pathname.startsWith('/backend-api/')) return backend(req, res, url.pathname.slice('/backend-api'.length), url, body);
    if (url.pathname.startsWith('/codex/tasks/') && req.method === 'GET') return taskPage(res, url.pathname.slice('/codex/tasks/'.length));
    if (url.pathname === '/oauth/token' && req.method === 'POST') return refresh(res, body);
    if (url.pathname === '/api/accounts/v1/user-auth-credential/whoami' && req.method === 'GET') return whoami(req, res);
    send(res, 404, { detail: 'Not Found' });
  }

  const serve = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { detail: error instanceof Error ? error.message : String(error) });
    });
  };
  let origin: string;
  let server: ReturnType<typeof createServer> | null = null;
  if (options.publicUrl) origin = options.publicUrl.replace(/\/+$/, '');
  else {
    const listening = createServer(serve);
    server = listening;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(options.port ?? 0, host, () => resolve());
    });
    origin = `http://${host}:${(listening.address() as AddressInfo).port}`;
  }
  authority = new TokenAuthority(account, origin, options.accessTokenTtlSeconds ?? 3600);

  return {
    baseUrl: `${origin}/backend-api`,
    authUrl: origin,
    account,
    requests: () => structuredClone(recorded),
    script,
    issueLogin: (opts) => authority.issueLogin(opts?.ttlSeconds),
    issueAccessToken: () => authority.issueAccessToken(),
    async writeAuthFile(path, opts) {
      const tokens = authority.issueLogin(opts?.ttlSeconds);
      const file = { auth_mode: 'chatgpt', OPENAI_API_KEY: null, tokens, last_refresh: new Date().toISOString() };
      await writeFile(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
      return tokens;
    },
    expireTokens: (opts) => authority.expireAll(opts?.refreshTokens === true),
    refreshCount: () => authority.refreshCount,
    reset,
    tasks: () =>
      tasks.map((t) => ({ id: t.id, prompt: userPrompt(t.inputItems), createdAt: t.createdAt * 1000, seenFinishedAt: t.seenFinishedAt ? t.seenFinishedAt * 1000 : null })),
    handle: serve,
    async stop() {
      if (server) {
        const closing = server;
        await new Promise<void>((resolve) => {
          closing.close(() => resolve());
          closing.closeAllConnections();
        });
      }
      // Let agents still working finish and remove their checkouts.
      await Promise.allSettled([...running]);
      await save();
    },
  };
}

/** Finished tasks as JSON (write then rename, so a reader never sees half a file). */
async function saveTasks(path: string, tasks: EmulatedTask[]): Promise<void> {
  const stored = tasks.flatMap((task) => storedTask(task) ?? []);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(stored));
  await rename(tmp, path);
}

async function loadTasks(path: string, environments: EmulatorEnvironment[]): Promise<EmulatedTask[]> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return [];
  try {
    return (JSON.parse(text) as StoredTask[]).flatMap((stored) => restoreTask(stored, environments) ?? []);
  } catch {
    return [];
  }
}

/** The text of a task's user message (where a run's marker line is). */
function userPrompt(items: unknown[]): string {
  for (const item of items as { type?: string; content?: { text?: string }[] }[]) {
    if (item?.type === 'message') return (item.content ?? []).map((c) => c.text ?? '').join('\n');
  }
  return '';
}

/** The first scripted answer `matches` picks, counted down and dropped once it has been given `count` times. */
function takeScripted<T extends { remaining: number }>(list: T[], matches: (entry: T) => boolean): T | undefined {
  const entry = list.find(matches);
  if (!entry) return undefined;
  entry.remaining -= 1;
  if (entry.remaining <= 0) list.splice(list.indexOf(entry), 1);
  return entry;
}
