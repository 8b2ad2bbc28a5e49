import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { graphql } from '@octokit/graphql';
import { FailureCode, Service } from '../../interfaces.js';
import { ofService, transient } from '../errors.js';
import { redactSecrets } from '../redact.js';
import { assertHeaderSafe } from '../secrets.js';
import { classifyGitHubError, requestedWaitMs, type ResponseHeaders } from './classify.js';

export interface GitHubConnection {
  /** `https://api.github.com` by default; GitHub Enterprise `https://host/api/v3` works too. */
  baseUrl?: string;
  /** The token itself (read by the caller from its secret reference). */
  token: string;
  /** The secret reference the token came from: named in CREDENTIALS errors, never the value. */
  tokenRef?: string;
  /** Per request (30 s by default). */
  timeoutMs?: number;
  /** Least time between the end of one mutation and the start of the next for this token (1 s). */
  mutationIntervalMs?: number;
  /** Where the token's limits are kept (this process alone by default). */
  limits?: TokenLimits;
  /** What the limits are counted by when kept in this process: the token by default (an App: its installation). */
  limitsKey?: string;
}

/** Sends one of the documents in documents.ts and returns its `data`, or throws a ProviderError. */
export type Send = <T>(document: string, variables: Record<string, unknown>, signal?: AbortSignal) => Promise<T>;

/**
 * Where one token's limits are kept. GitHub counts per token, whoever sends: the chain's workers share
 * one kept in PostgreSQL (src/jobs/capacity.ts); a lone client keeps them in this process.
 */
export interface TokenLimits {
  /** How long GitHub still asks this token to wait (0: it may send now). */
  blockedForMs(): Promise<number>;
  /** GitHub asked to wait `ms` (a secondary limit's retry-after, an exhausted primary limit). */
  block(ms: number, reason: string): Promise<void>;
  /** Runs `send` as the token's next mutation: alone, and at least `intervalMs` after the previous one ended. */
  mutation<T>(intervalMs: number, send: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

interface TokenState {
  mutations: Promise<void>;
  lastMutationEnd: number;
  blockedUntil: number;
}

const tokens = new Map<string, TokenState>();

/** The limits of one token as this process alone knows them, shared by every client built for it here. */
export function processTokenLimits(baseUrl: string, token: string): TokenLimits {
  const key = createHash('sha256').update(`${baseUrl}\n${token}`).digest('hex');
  let state = tokens.get(key);
  if (!state) {
    state = { mutations: Promise.resolve(), lastMutationEnd: 0, blockedUntil: 0 };
    tokens.set(key, state);
  }
  const s = state;
  return {
    blockedForMs: async () => Math.max(0, s.blockedUntil - Date.now()),
    block: async (ms) => {
      s.blockedUntil = Math.max(s.blockedUntil, Date.now() + ms);
    },
    mutation: <T>(intervalMs: number, send: () => Promise<T>, signal?: AbortSignal) => {
      const run = async () => {
        const wait = s.lastMutationEnd + intervalMs - Date.now();
        if (wait > 0) await sleep(wait, undefined, { signal });
        try {
          return await send();
        } finally {
          s.lastMutationEnd = Date.now();
        }
      };
      const result = s.mutations.then(run, run);
      s.mutations = result.then(
        () => undefined,
        () => undefined,
      );
      return result;
    },
  };
}

/** A wait this short is waited out in place; a longer one is the caller's to wait (a durable wait of the step). */
const WAIT_IN_PLACE_MS = 2000;

const operationName = (document: string) => /\b(?:query|mutation)\s+(\w+)/.exec(document)?.[1] ?? 'GraphQL request';

export function createSend(connection: GitHubConnection): Send {
  const baseUrl = (connection.baseUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const { token, tokenRef } = connection;
  const timeoutMs = connection.timeoutMs ?? 30_000;
  const interval = connection.mutationIntervalMs ?? 1000;
  const limits = connection.limits ?? processTokenLimits(baseUrl, connection.limitsKey ?? token);
  const redact = (text: string) => redactSecrets(text, [token]);

  // Read the rate-limit headers of every answer, successful or not.
  const fetchRecording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const headers: ResponseHeaders = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    const wait = requestedWaitMs(headers);
    if (wait !== undefined && (response.status !== 200 || String(headers['x-ratelimit-remaining']) === '0')) {
      const why = String(headers['x-ratelimit-remaining']) === '0' ? 'primary rate limit spent' : `secondary rate limit (HTTP ${response.status})`;
      await limits.block(wait, why);
    }
    return response;
  };
  const client = graphql.defaults({ baseUrl, headers: { authorization: `token ${token}` }, request: { fetch: fetchRecording } });

  const once = async <T>(document: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<T> => {
    const operation = operationName(document);
    const blocked = await limits.blockedForMs();
    if (blocked > WAIT_IN_PLACE_MS) {
      throw transient(FailureCode.RATE_LIMITED, `GitHub asked this token to wait; ${operation} not sent for ${Math.ceil(blocked / 1000)} s.`, {
        retryAfterMs: blocked,
        details: { operation },
      });
    }
    if (blocked > 0) await sleep(blocked, undefined, { signal });
    assertHeaderSafe({ authorization: `token ${token}` }, tokenRef ?? 'the GitHub token', 'GitHub');
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      return await client<T>(document, {
        ...variables,
        request: { fetch: fetchRecording, signal: signal ? AbortSignal.any([signal, timeout]) : timeout },
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw classifyGitHubError(error, { operation, tokenRef, redact });
    }
  };

  const send = async <T>(document: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<T> => {
    if (!/^\s*mutation\b/.test(document)) return once<T>(document, variables, signal);
    return limits.mutation(interval, () => once<T>(document, variables, signal), signal);
  };
  return <T>(document: string, variables: Record<string, unknown>, signal?: AbortSignal) =>
    send<T>(document, variables, signal).catch((error: unknown) => {
      throw ofService(Service.GITHUB, error);
    });
}
