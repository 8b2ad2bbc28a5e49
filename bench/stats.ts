/** Percentiles of a set of times (nearest rank), in the unit given. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Milliseconds as a table cell: one decimal below 100 ms, whole above. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value < 100 ? value.toFixed(1) : value.toFixed(0);
}

/** `a / b` as a factor, e.g. `3.2×`. */
export function ratio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return 'n/a';
  // Three significant digits, so a small ratio (runs per second) does not print as 0.00×.
  return `${Number((a / b).toPrecision(3))}×`;
}

export const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

/** Waits for `ready` to hold, checking every 10 ms; throws naming `what` after `timeoutMs`. */
export async function until(ready: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}
