import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { graphql } from '@octokit/graphql';
import { FailureCode } from '../../interfaces.js';
import { transient } from '../errors.js';
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
}

/** Sends one of the documents in documents.ts and returns its `data`, or throws a ProviderError. */
export type Send = <T>(document: string, variables: Record<string, unknown>, signal?: AbortSignal) => Promise<T>;

/**
 * What this process knows about one token on one GitHub: when its last mutation ended (GitHub asks
 * for a second between mutations) and until when GitHub told us to stop (rate limits).
 * Shared by every client built for the same token, so two runs in one worker respect it together.
 */
interface TokenState {
  mutations: Promise<void>;
  lastMutationEnd: number;
  blockedUntil: number;
}

const tokens = new Map<string, TokenState>();

function stateOf(baseUrl: string, token: string): TokenState {
  const key = createHash('sha256').update(`${baseUrl}\n${token}`).digest('hex');
  let state = tokens.get(key);
  if (!state) {
    state = { mutations: Promise.resolve(), lastMutationEnd: 0, blockedUntil: 0 };
    tokens.set(key, state);
  }
  return state;
}

const operationName = (document: string) => /\b(?:query|mutation)\s+(\w+)/.exec(document)?.[1] ?? 'GraphQL request';

export function createSend(connection: GitHubConnection): Send {
  const baseUrl = (connection.baseUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const { token, tokenRef } = connection;
  const timeoutMs = connection.timeoutMs ?? 30_000;
  const interval = connection.mutationIntervalMs ?? 1000;
  const state = stateOf(baseUrl, token);
  const redact = (text: string) => (token.length >= 4 ? text.split(token).join('[redacted]') : text);

  // Read the rate-limit headers of every answer, successful or not.
  const fetchRecording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const headers: ResponseHeaders = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    const wait = requestedWaitMs(headers);
    if (wait !== undefined && (response.status !== 200 || String(headers['x-ratelimit-remaining']) === '0')) {
      state.blockedUntil = Math.max(state.blockedUntil, Date.now() + wait);
    }
    return response;
  };
  const client = graphql.defaults({ baseUrl, headers: { authorization: `token ${token}` }, request: { fetch: fetchRecording } });

  const once = async <T>(document: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<T> => {
    const operation = operationName(document);
    const blocked = state.blockedUntil - Date.now();
    if (blocked > 0) {
      throw transient(FailureCode.RATE_LIMITED, `GitHub asked this token to wait; ${operation} not sent for ${Math.ceil(blocked / 1000)} s.`, {
        retryAfterMs: blocked,
        details: { operation },
      });
    }
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

  return async <T>(document: string, variables: Record<string, unknown>, signal?: AbortSignal): Promise<T> => {
    if (!/^\s*mutation\b/.test(document)) return once<T>(document, variables, signal);
    const run = async () => {
      const wait = state.lastMutationEnd + interval - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal });
      try {
        return await once<T>(document, variables, signal);
      } finally {
        state.lastMutationEnd = Date.now();
      }
    };
    const result = state.mutations.then(run, run);
    state.mutations = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };
}
