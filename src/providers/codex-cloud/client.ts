import { FailureCode, Service } from '../../interfaces.js';
import { ofService, permanent, ProviderError } from '../errors.js';
import type { SecretRef } from '../secrets.js';
import { createCodexAuth, type CodexAuth, type CodexCredentials } from './auth.js';
import { exchange, failureFromAnswer, parseJson, type FailureContext } from './http.js';
import { snapshotFromDetails, userTextOfDetails } from './snapshot.js';
import type {
  CodexCloud,
  CodexEnvironment,
  CodexUsage,
  SubmitTaskInput,
  MarkerSearch,
  SubmittedTask,
  TaskSnapshot,
  UsageWindow,
} from './types.js';

export const DEFAULT_CODEX_BASE_URL = 'https://chatgpt.com/backend-api';
export const DEFAULT_CODEX_AUTH_URL = 'https://auth.openai.com';

export interface CodexCloudClientOptions {
  /** `env:NAME` or `file:/path` holding a ChatGPT auth.json or a Codex access token (`at-…`). */
  authRef: SecretRef;
  baseUrl?: string;
  authUrl?: string;
  userAgent?: string;
  /** Refresh a ChatGPT access token this long before it expires. */
  refreshSkewMs?: number;
  requestTimeoutMs?: number;
  /** Pages of 20 tasks `findTaskByMarker` reads at most before it says its search is incomplete. */
  markerSearchPages?: number;
}

type Json = Record<string, unknown>;
const LIST_PAGE = 20;
/** How far behind ours the service's clock may run when it stamps a task's creation. */
const CLOCK_SKEW_SECONDS = 300;

interface Call {
  operation: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
}

export function createCodexCloudClient(options: CodexCloudClientOptions): CodexCloud {
  const baseUrl = (options.baseUrl ?? DEFAULT_CODEX_BASE_URL).replace(/\/+$/, '');
  const authUrl = (options.authUrl ?? DEFAULT_CODEX_AUTH_URL).replace(/\/+$/, '');
  const userAgent = options.userAgent ?? `spec-chain (codex-cloud client; node ${process.version})`;
  const auth: CodexAuth = createCodexAuth({ ref: options.authRef, authUrl, userAgent, refreshSkewMs: options.refreshSkewMs });
  // The task's page lives beside the API: https://chatgpt.com/codex/tasks/<id> for the real service.
  const webRoot = baseUrl.replace(/\/backend-api$/, '');
  const taskUrl = (taskId: string) => `${webRoot}/codex/tasks/${encodeURIComponent(taskId)}`;
  const context = (operation: string): FailureContext => ({ operation, secretRef: auth.ref, known: auth.known() });

  /** One request with credentials, its failures said to come from Codex Cloud. */
  async function call(method: string, path: string, spec: Call, signal?: AbortSignal): Promise<unknown> {
    return send(method, path, spec, signal).catch((error: unknown) => {
      throw ofService(Service.CODEX, error);
    });
  }

  /** A 401 renews the credentials (refresh or re-read) and tries once more. */
  async function send(method: string, path: string, spec: Call, signal?: AbortSignal): Promise<unknown> {
    const url = new URL(`${baseUrl}${path}`);
    for (const [key, value] of Object.entries(spec.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    let creds: CodexCredentials = await auth.current(signal);
    for (let renewed = false; ; renewed = true) {
      const headers: Record<string, string> = {
        'user-agent': userAgent,
        authorization: `Bearer ${creds.accessToken}`,
        'chatgpt-account-id': creds.accountId,
      };
      if (spec.body !== undefined) headers['content-type'] = 'application/json';
      headers.accept = 'application/json';
      const init = { method, headers, ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}) };
      const answer = await exchange(url.toString(), init, context(spec.operation), signal, options.requestTimeoutMs);
      if (answer.status === 401 && !renewed) {
        const next = await auth.renew(creds, signal);
        if (next) {
          creds = next;
          continue;
        }
      }
      if (answer.status < 200 || answer.status >= 300) throw failureFromAnswer(answer, context(spec.operation));
      return answer.text === '' ? null : parseJson(answer, context(spec.operation));
    }
  }

  async function environments(path: string, operation: string, signal?: AbortSignal): Promise<CodexEnvironment[]> {
    const body = await call('GET', path, { operation }, signal);
    const rows = Array.isArray(body) ? body : ((body as Json | null)?.environments as unknown[] | undefined) ?? [];
    return rows.flatMap((raw): CodexEnvironment[] => {
      const row = raw as Json;
      if (typeof row?.id !== 'string') return [];
      return [
        {
          id: row.id,
          label: typeof row.label === 'string' ? row.label : null,
          isPinned: row.is_pinned === true,
          taskCount: typeof row.task_count === 'number' ? row.task_count : null,
        },
      ];
    });
  }

  async function listTasks(environmentId: string, cursor: string | undefined, signal?: AbortSignal) {
    const body = (await call(
      'GET',
      '/wham/tasks/list',
      {
        operation: 'list tasks',
        query: { limit: String(LIST_PAGE), task_filter: 'current', environment_id: environmentId, cursor },
      },
      signal,
    )) as Json | null;
    const items = Array.isArray(body?.items) ? (body.items as Json[]) : [];
    return { items, cursor: typeof body?.cursor === 'string' && body.cursor !== '' ? body.cursor : undefined };
  }

  const client: CodexCloud = {
    async resolveEnvironment(repository, idOrLabel, signal) {
      const match = /^([^/\s]+)\/([^/\s]+)$/.exec(repository);
      if (!match) {
        throw permanent(FailureCode.CODEX_REQUEST_REJECTED, `Repository "${repository}" is not owner/name.`);
      }
      const wanted = idOrLabel.trim();
      if (wanted === '') {
        throw permanent(FailureCode.CODEX_ENVIRONMENT_NOT_FOUND, `No Codex environment named for ${repository}: set an environment id or label.`);
      }
      const [, owner, name] = match;
      const byRepo = await environments(
        `/wham/environments/by-repo/github/${encodeURIComponent(owner!)}/${encodeURIComponent(name!)}`,
        'list environments of the repository',
        signal,
      ).catch((error: unknown) => {
        // A repository Codex has never seen answers 404 here; the full list still decides.
        if (error instanceof ProviderError && error.details.status === 404) return [];
        throw error;
      });
      const all = await environments('/wham/environments', 'list environments', signal);
      const merged = [...byRepo, ...all.filter((env) => !byRepo.some((seen) => seen.id === env.id))];

      const exact = merged.find((env) => env.id === wanted);
      if (exact) return exact;
      const labelled = merged.filter((env) => env.label !== null && env.label.toLowerCase() === wanted.toLowerCase());
      if (labelled.length === 1) return labelled[0]!;
      const known = merged.map((env) => (env.label ? `${env.label} (${env.id})` : env.id)).join(', ') || 'none';
      if (labelled.length > 1) {
        throw permanent(
          FailureCode.CODEX_ENVIRONMENT_AMBIGUOUS,
          `Codex environment label "${wanted}" matches ${labelled.length} environments (${labelled.map((env) => env.id).join(', ')}); name one by id.`,
          { details: { candidates: labelled.map((env) => env.id) } },
        );
      }
      throw permanent(
        FailureCode.CODEX_ENVIRONMENT_NOT_FOUND,
        `No Codex environment "${wanted}" for ${repository}; the account has: ${known}. Create one at chatgpt.com/codex or name an existing id or label.`,
      );
    },

    async submitTask(input: SubmitTaskInput, signal?: AbortSignal): Promise<SubmittedTask> {
      if (!Number.isInteger(input.bestOfN) || input.bestOfN < 1 || input.bestOfN > 4) {
        throw permanent(FailureCode.CODEX_REQUEST_REJECTED, `Codex Cloud works out 1 to 4 solutions per task (best-of-N), not ${input.bestOfN}.`);
      }
      const marker = input.marker.trim();
      const holdsMarker = input.prompt.split(/\r?\n/).some((line) => line.trim() === marker);
      const prompt = marker === '' || holdsMarker ? input.prompt : `${input.prompt.replace(/\s+$/, '')}\n\n${marker}\n`;
      const inputItems: unknown[] = [{ type: 'message', role: 'user', content: [{ content_type: 'text', text: prompt }] }];
      if (input.startingDiff) inputItems.push({ type: 'pre_apply_patch', output_diff: { diff: input.startingDiff } });
      const body: Json = {
        new_task: { environment_id: input.environmentId, branch: input.branch, run_environment_in_qa_mode: false },
        input_items: inputItems,
      };
      if (input.bestOfN > 1) body.metadata = { best_of_n: input.bestOfN };
      const answer = (await call('POST', '/wham/tasks', { operation: 'create task', body }, signal)) as Json | null;
      const id = (answer?.task as Json | undefined)?.id ?? answer?.id;
      if (typeof id !== 'string' || id === '') {
        throw permanent(FailureCode.CODEX_REQUEST_REJECTED, 'create task: Codex Cloud answered without a task id.');
      }
      return { taskId: id, url: taskUrl(id) };
    },

    async getTask(taskId, signal): Promise<TaskSnapshot> {
      const details = await call('GET', `/wham/tasks/${encodeURIComponent(taskId)}`, { operation: `read task ${taskId}` }, signal);
      return snapshotFromDetails(taskId, taskUrl(taskId), details);
    },

    async getUsage(signal): Promise<CodexUsage> {
      const body = ((await call('GET', '/wham/usage', { operation: 'read usage' }, signal)) as Json | null) ?? {};
      const limit = (body.rate_limit as Json | null | undefined) ?? null;
      const credits = (body.credits as Json | null | undefined) ?? null;
      return {
        planType: typeof body.plan_type === 'string' ? body.plan_type : null,
        limitReached: limit?.limit_reached === true || typeof body.rate_limit_reached_type === 'string',
        rateLimitReachedType: typeof body.rate_limit_reached_type === 'string' ? body.rate_limit_reached_type : null,
        primaryWindow: usageWindow(limit?.primary_window),
        secondaryWindow: usageWindow(limit?.secondary_window),
        credits: credits
          ? {
              hasCredits: credits.has_credits === true,
              unlimited: credits.unlimited === true,
              balance: typeof credits.balance === 'string' ? credits.balance : null,
            }
          : null,
      };
    },

    async findTaskByMarker(environmentId, marker, since, signal) {
      const wanted = marker.trim();
      const search: MarkerSearch = { taskId: null, pagesRead: 0, tasksRead: 0, complete: true };
      if (wanted === '') return search;
      // Tasks created a little before `since` by a clock that runs behind ours still count.
      const notBefore = since.getTime() / 1000 - CLOCK_SKEW_SECONDS;
      let undated = 0;
      let cursor: string | undefined;
      for (;;) {
        if (search.pagesRead >= (options.markerSearchPages ?? 250)) {
          return { ...search, complete: false, incomplete: `stopped after ${search.pagesRead} pages of tasks` };
        }
        const { items, cursor: next } = await listTasks(environmentId, cursor, signal);
        search.pagesRead += 1;
        let older = 0;
        for (const item of items) {
          if (typeof item.id !== 'string') continue;
          const created = typeof item.created_at === 'number' ? item.created_at : null;
          if (created === null) undated += 1;
          else if (created < notBefore) {
            older += 1;
            continue;
          }
          search.tasksRead += 1;
          const details = await call('GET', `/wham/tasks/${encodeURIComponent(item.id)}`, { operation: `read task ${item.id}` }, signal);
          const lines = userTextOfDetails(details).split(/\r?\n/);
          if (lines.some((line) => line.trim() === wanted)) return { ...search, taskId: item.id };
        }
        // The list is newest first: one older task means every task after it is older too.
        if (older > 0 || !next || items.length === 0) {
          // Without creation times the list cannot say where "since" is: every page was read, but a task
          // the list no longer shows as current (archived meanwhile) cannot be ruled out.
          return undated > 0 && older === 0 ? { ...search, complete: false, incomplete: `${undated} listed tasks carry no creation time` } : search;
        }
        cursor = next;
      }
    },

    async checkCredentials(signal) {
      await auth.current(signal).catch((error: unknown) => {
        throw ofService(Service.CODEX, error);
      });
    },
  };
  return client;
}

function usageWindow(raw: unknown): UsageWindow | null {
  if (!raw || typeof raw !== 'object') return null;
  const w = raw as Json;
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    usedPercent: num(w.used_percent) ?? 0,
    windowSeconds: num(w.limit_window_seconds),
    resetAfterSeconds: num(w.reset_after_seconds),
    resetAt: num(w.reset_at),
  };
}
