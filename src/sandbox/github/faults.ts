import type { OperationDefinitionNode } from 'graphql';

/**
 * Failures the emulator can be told to answer with, in-process or over HTTP (`POST /_emulator/faults`),
 * each shaped the way GitHub sends it.
 */
export type FaultKind =
  /** HTTP 200, `errors:[{type:"RATE_LIMITED"}]` (or `RATE_LIMIT`), x-ratelimit-remaining 0 and a reset time. */
  | 'RATE_LIMITED'
  /** HTTP 403 with `retry-after` and GitHub's secondary-limit message. */
  | 'SECONDARY_RATE_LIMIT'
  | 'BAD_GATEWAY'
  | 'GATEWAY_TIMEOUT'
  /** `errors:[{type:"FORBIDDEN"}]` on mutations (or on the named operation), as for a token lacking access. */
  | 'FORBIDDEN'
  /** HTTP 401 `{"message":"Bad credentials"}` whatever the token. */
  | 'BAD_CREDENTIALS'
  /** `errors:[{type:"INTERNAL"}]`, GitHub's "something went wrong" while executing. */
  | 'INTERNAL';

export const FAULT_KINDS: readonly FaultKind[] = [
  'RATE_LIMITED',
  'SECONDARY_RATE_LIMIT',
  'BAD_GATEWAY',
  'GATEWAY_TIMEOUT',
  'FORBIDDEN',
  'BAD_CREDENTIALS',
  'INTERNAL',
];

export interface Fault {
  kind: FaultKind;
  /** Only requests whose operation has this name. */
  operation?: string;
  /** How many matching requests get it (1 by default); `always` until reset. */
  times?: number;
  always?: boolean;
  /** SECONDARY_RATE_LIMIT: the `retry-after` value (60 by default). */
  retryAfterSeconds?: number;
  /** RATE_LIMITED: seconds until `x-ratelimit-reset` (60 by default). */
  resetInSeconds?: number;
  /** RATE_LIMITED: leave the budget headers as they are (a limit that is not the hourly budget) when > 0. */
  remaining?: number;
  /** RATE_LIMITED: the error type to send (GitHub uses both). */
  errorType?: 'RATE_LIMITED' | 'RATE_LIMIT';
}

/** Checks a fault given over HTTP; returns what is wrong, or undefined. */
export function faultProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'a fault is an object';
  const fault = value as Record<string, unknown>;
  if (!FAULT_KINDS.includes(fault.kind as FaultKind)) return `kind must be one of ${FAULT_KINDS.join(', ')}`;
  for (const key of ['times', 'retryAfterSeconds', 'resetInSeconds', 'remaining']) {
    if (fault[key] !== undefined && !(Number.isInteger(fault[key]) && (fault[key] as number) >= 0)) return `${key} must be a whole number`;
  }
  if (fault.operation !== undefined && typeof fault.operation !== 'string') return 'operation must be a string';
  return undefined;
}

/** The queue of faults still to be served, first match wins. */
export class Faults {
  private pending: (Fault & { left: number })[] = [];

  add(fault: Fault): void {
    this.pending.push({ ...fault, left: fault.always ? Infinity : (fault.times ?? 1) });
  }

  /** The fault this request gets, if any (counting it as served). */
  take(operationName: string | null, operationType: string | null): Fault | undefined {
    const index = this.pending.findIndex((f) =>
      f.operation !== undefined ? f.operation === operationName : f.kind !== 'FORBIDDEN' || operationType === 'mutation',
    );
    if (index < 0) return undefined;
    const fault = this.pending[index]!;
    if (--fault.left <= 0) this.pending.splice(index, 1);
    const { left: _left, ...served } = fault;
    return served;
  }

  list(): Fault[] {
    return this.pending.map(({ left, ...fault }) => ({ ...fault, times: left === Infinity ? undefined : left }));
  }

  clear(): void {
    this.pending = [];
  }
}

/** The answer GitHub gives for each injected fault (undefined: nothing to answer, execute normally). */
export function faultAnswer(fault: Fault, operation: OperationDefinitionNode | null | undefined, headers: Record<string, string>) {
  const json = (status: number, body: unknown, extra: Record<string, string> = {}) => ({ status, headers: { ...headers, ...extra }, body });
  switch (fault.kind) {
    case 'RATE_LIMITED': {
      const reset = Math.floor(Date.now() / 1000) + (fault.resetInSeconds ?? 60);
      const type = fault.errorType ?? 'RATE_LIMITED';
      return json(
        200,
        { errors: [{ type, ...(type === 'RATE_LIMIT' && { code: 'graphql_rate_limit' }), message: 'API rate limit already exceeded for user ID 1.' }] },
        fault.remaining ? {} : { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      );
    }
    case 'SECONDARY_RATE_LIMIT':
      return json(
        403,
        {
          message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: `https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api#secondary-rate-limits`,
        },
        { 'retry-after': String(fault.retryAfterSeconds ?? 60) },
      );
    case 'BAD_GATEWAY':
      return json(502, {
        data: null,
        errors: [{ message: 'Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug.' }],
      });
    case 'GATEWAY_TIMEOUT':
      return json(504, { message: "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request." });
    case 'FORBIDDEN':
    case 'INTERNAL': {
      const field = operation?.selectionSet.selections.find((s) => s.kind === 'Field');
      const key = field?.kind === 'Field' ? (field.alias?.value ?? field.name.value) : 'data';
      const message =
        fault.kind === 'FORBIDDEN'
          ? 'Resource not accessible by personal access token'
          : 'Something went wrong while executing your query. Please include `ABCD:1234` when reporting this issue.';
      const location = field?.loc ? [{ line: field.loc.startToken.line, column: field.loc.startToken.column }] : [];
      return json(200, { data: { [key]: null }, errors: [{ type: fault.kind, path: [key], locations: location, message }] });
    }
    default:
      return undefined;
  }
}
