import { ApiError } from './api.js';
import type { LiveState } from './live.js';
import { h } from './dom.js';
import type { UserError } from './documents.js';

/** What a page gets from the shell around it: where to draw, and the shared notice and live lines. */
export interface Frame {
  main: HTMLElement;
  /** A message the operator must read (refused token, failed request): shown at the top, announced. */
  notice(message: string | null, kind?: 'error' | 'info'): void;
  /** The live-update line: connected, reconnecting, stopped. */
  live(state: LiveState, detail?: string): void;
}

export interface Page {
  dispose(): void;
}

const LIVE_TEXT: Record<LiveState['kind'], string> = {
  connecting: 'Connecting for live updates…',
  live: 'Live: updates appear as they happen.',
  retrying: 'Connection lost',
  stopped: 'Live updates stopped',
};

export function liveText(state: LiveState, detail = ''): string {
  if (state.kind === 'retrying') return `${LIVE_TEXT.retrying} (${state.reason}); reconnecting in ${state.inSeconds} s${detail}.`;
  if (state.kind === 'stopped') return `${LIVE_TEXT.stopped}: ${state.message}`;
  return LIVE_TEXT[state.kind];
}

/** A request's failure in words the operator can act on. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) return error.code === 'FORBIDDEN' ? `${error.message} Use a token with that role.` : error.message;
  return error instanceof Error ? error.message : String(error);
}

/** userErrors as a list naming the field at fault; empty when there are none. */
export function userErrorList(errors: UserError[]): HTMLElement | null {
  if (!errors.length) return null;
  return h(
    'ul',
    { class: 'user-errors', role: 'alert' },
    ...errors.map((e) => h('li', {}, h('strong', {}, e.code), e.field ? ` (${e.field})` : '', `: ${e.message}`)),
  );
}
