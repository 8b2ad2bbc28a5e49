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
