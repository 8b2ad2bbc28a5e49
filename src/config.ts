import { resolve } from 'node:path';

/**
 * The one configuration every subcommand reads, from environment variables, validated at start-up.
 * `.env.example` lists each variable with its default; keep the two in step.
 */
export interface Config {
  port: number;
  host: string;
  /** Unset: `start` runs an embedded PostgreSQL in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Where an older version kept artifact files: `migrate` moves them into PostgreSQL. */
  artifactDir: string;
  artifactMaxBytes: number;
  /** `role:token` pairs; empty means a local admin token is generated at start-up. */
  apiTokens: { role: Role; token: string }[];
  /** A file of `role:token` entries (comma or newline separated), re-read on SIGHUP: tokens can be revoked. */
  apiTokensFile: string | undefined;
  /** A token that opens `/metrics` and nothing else (any API token opens it too). */
  metricsToken: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `auto`: sandbox when no provider endpoint or credential is configured. */
  sandbox: 'auto' | 'on' | 'off';
  codexBaseUrl: string;
  codexAuthUrl: string;
  githubApiUrl: string;
  gitBaseUrl: string;
  gitAuthor: { name: string; email: string };
  workerConcurrency: number;
  /** How long a stopping `work` process lets running steps finish before it hands them to another worker. */
  workerStopGraceSeconds: number;
  codexPollDeadlineMinutes: number;
  codexPollIntervalSeconds: number;
  codexPollMaxIntervalSeconds: number;
  /** Transient failures retried inside a step before the run fails. */
  stepRetryLimit: number;
  /** How often pg-boss's supervisor looks for expired jobs and lost heartbeats. */
  queueMonitorSeconds: number;
  /** GitHub asks for at least a second between mutations per token. */
  githubMutationIntervalMs: number;
  /** A GitHub App installation token with less than this left is replaced before it is used (GitHub's last an hour). */
  githubAppTokenRefreshMarginMs: number;
  /** What a run cancelled during PUBLISH undoes of what it made: its new pull request (closed with a comment), its new branch. */
  cancelClosesPullRequest: boolean;
  cancelDeletesBranch: boolean;
  /** How tasks.md files are read off the event loop (src/speckit/pool.ts): budget per read, heap per worker, workers. */
  tasksRead: { timeoutMs: number; memoryMb: number; threads: number };
  /** Stack traces and internal error messages in answers: for development only (SPEC_CHAIN_DEBUG_ERRORS). */
  debugErrors: boolean;
  /** Limits on every GraphQL document, over HTTP and WebSocket alike, checked before it runs. */
  graphqlLimits: { maxTokens: number; maxDepth: number; maxAliases: number; maxCost: number };
  /** Limits of the subscription socket; its largest message is the HTTP body limit. */
  socketLimits: { maxSocketsPerToken: number; maxSubscriptionsPerSocket: number };
}

/** The largest request body (HTTP) and message (WebSocket) the API reads. */
export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;
/** The largest message a subscription socket may send before its connection_init is acknowledged. */
export const SOCKET_INIT_LIMIT_BYTES = 16 * 1024;

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `"${raw}" is not a whole number.`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `${n} is outside ${min}..${max}.`);
  return n;
}

function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const value = text(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `"${value}" is not a URL.`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `"${parsed.protocol}" is not one of ${protocols.join(', ')}.`);
  }
  return value.replace(/\/+$/, '');
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const value = text(env, name, fallback).toLowerCase();
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `"${value}" is not one of ${allowed.join(', ')}.`);
  }
  return value as T;
}

/** Parses `role:token` entries (comma or newline separated); `variable` names the source in errors. */
export function parseApiTokens(raw: string, variable = 'API_TOKENS'): Config['apiTokens'] {
  if (raw.trim() === '') return [];
  return raw.split(/[,\n]/).filter((pair) => pair.trim() !== '').map((pair, i) => {
    const at = pair.indexOf(':');
    const role = pair.slice(0, at).trim();
    const token = pair.slice(at + 1).trim();
    // Never echo the token itself: only its position.
    if (at < 0 || !(ROLES as readonly string[]).includes(role)) {
      throw new ConfigError(variable, `entry ${i + 1} must be role:token with role one of ${ROLES.join(', ')}.`);
    }
    if (token.length < 16) throw new ConfigError(variable, `entry ${i + 1} has a token shorter than 16 characters.`);
    return { role: role as Role, token };
  });
}

function metricsToken(env: Env): string | undefined {
  const token = text(env, 'METRICS_TOKEN', '').trim();
  if (token === '') return undefined;
  // Never echo the token itself.
  if (token.length < 16) throw new ConfigError('METRICS_TOKEN', 'is shorter than 16 characters.');
  return token;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name, fallback ? '1' : '0').toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `"${raw}" is not 1 or 0.`);
}

function sandbox(env: Env): Config['sandbox'] {
  const raw = text(env, 'SANDBOX', 'auto').toLowerCase();
  if (raw === 'auto') return 'auto';
  if (['1', 'true', 'on', 'yes'].includes(raw)) return 'on';
  if (['0', 'false', 'off', 'no'].includes(raw)) return 'off';
  throw new ConfigError('SANDBOX', `"${raw}" is not auto, 1 or 0.`);
}

export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = env.DATABASE_URL === undefined || env.DATABASE_URL === '' ? undefined : url(env, 'DATABASE_URL', '', ['postgres:', 'postgresql:']);
  const dataDir = resolve(text(env, 'DATA_DIR', '.data'));
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: text(env, 'HOST', '127.0.0.1'),
    databaseUrl,
    dataDir,
    artifactDir: resolve(text(env, 'ARTIFACT_DIR', `${dataDir}/artifacts`)),
    artifactMaxBytes: integer(env, 'ARTIFACT_MAX_BYTES', 50 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    apiTokens: parseApiTokens(text(env, 'API_TOKENS', '')),
    apiTokensFile: env.API_TOKENS_FILE ? resolve(env.API_TOKENS_FILE) : undefined,
    metricsToken: metricsToken(env),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    sandbox: sandbox(env),
    codexBaseUrl: url(env, 'CODEX_BASE_URL', 'https://chatgpt.com/backend-api', ['https:', 'http:']),
    codexAuthUrl: url(env, 'CODEX_AUTH_URL', 'https://auth.openai.com', ['https:', 'http:']),
    githubApiUrl: url(env, 'GITHUB_API_URL', 'https://api.github.com', ['https:', 'http:']),
    gitBaseUrl: url(env, 'GIT_BASE_URL', 'https://github.com', ['https:', 'http:', 'file:']),
    gitAuthor: {
      name: text(env, 'GIT_AUTHOR_NAME', 'spec-chain'),
      email: text(env, 'GIT_AUTHOR_EMAIL', 'spec-chain@users.noreply.github.com'),
    },
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 4, 1, 256),
    workerStopGraceSeconds: integer(env, 'WORKER_STOP_GRACE_SECONDS', 20, 0, 3600),
    codexPollDeadlineMinutes: integer(env, 'CODEX_POLL_DEADLINE_MINUTES', 60, 1, 24 * 60),
    codexPollIntervalSeconds: integer(env, 'CODEX_POLL_INTERVAL_SECONDS', 5, 1, 3600),
    codexPollMaxIntervalSeconds: integer(env, 'CODEX_POLL_MAX_INTERVAL_SECONDS', 60, 1, 3600),
    stepRetryLimit: integer(env, 'STEP_RETRY_LIMIT', 5, 0, 100),
    queueMonitorSeconds: integer(env, 'QUEUE_MONITOR_SECONDS', 2, 1, 3600),
    githubMutationIntervalMs: integer(env, 'GITHUB_MUTATION_INTERVAL_MS', 1000, 0, 60_000),
    githubAppTokenRefreshMarginMs: integer(env, 'GITHUB_APP_TOKEN_REFRESH_SECONDS', 300, 0, 3000) * 1000,
    cancelClosesPullRequest: flag(env, 'CANCEL_CLOSES_PULL_REQUEST', true),
    cancelDeletesBranch: flag(env, 'CANCEL_DELETES_BRANCH', true),
    tasksRead: {
      timeoutMs: integer(env, 'TASKS_READ_TIMEOUT_MS', 10_000, 100, 600_000),
      memoryMb: integer(env, 'TASKS_READ_MEMORY_MB', 512, 32, 16_384),
      threads: integer(env, 'TASKS_READ_THREADS', 2, 1, 64),
    },
    debugErrors: flag(env, 'SPEC_CHAIN_DEBUG_ERRORS', false),
    graphqlLimits: {
      maxTokens: integer(env, 'GRAPHQL_MAX_TOKENS', 5000, 100, 1_000_000),
      maxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', 12, 2, 1000),
      maxAliases: integer(env, 'GRAPHQL_MAX_ALIASES', 30, 0, 100_000),
      maxCost: integer(env, 'GRAPHQL_MAX_COST', 5000, 100, 10_000_000),
    },
    socketLimits: {
      maxSocketsPerToken: integer(env, 'WS_MAX_SOCKETS_PER_TOKEN', 100, 1, 100_000),
      maxSubscriptionsPerSocket: integer(env, 'WS_MAX_SUBSCRIPTIONS_PER_SOCKET', 50, 1, 100_000),
    },
  };
}
