/** Building the pages' elements: text always goes in as text nodes, so nothing from the API is parsed as HTML. */

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value));
  }
  element.append(...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((c) => (typeof c === 'number' ? String(c) : c)));
  return element;
}

/** The symbol shown beside a state's name: the text says it, the symbol and colour only help. */
const SYMBOL: Record<string, string> = {
  SUCCEEDED: '✓',
  FAILED: '✗',
  RUNNING: '▶',
  QUEUED: '…',
  PENDING: '○',
  WAITING: '⏳',
  RETRYING: '↻',
  SKIPPED: '–',
  CANCELLED: '■',
  NO_WORK: '–',
  IN_REVIEW: '◎',
};

/** A run status or step state as a labelled badge; `data-state` is for styling and for tests. */
export function stateBadge(state: string): HTMLElement {
  return h('span', { class: `badge state-${state.toLowerCase()}`, 'data-state': state }, `${SYMBOL[state] ?? '•'} ${state.replace('_', ' ')}`);
}

export function sandboxBadge(): HTMLElement {
  return h('span', { class: 'badge sandbox', title: 'This run used the local Codex Cloud and GitHub emulators: nothing real was changed.' }, 'SANDBOX');
}

/** A time as the reader's local clock, with the exact ISO value in the markup. */
export function time(iso: string | null | undefined): HTMLElement | string {
  if (!iso) return '—';
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  const text = sameDay ? date.toLocaleTimeString() : date.toLocaleString();
  return h('time', { datetime: iso, title: iso }, text);
}

/** A link that leaves the page (Codex task, pull request): a new tab, no referrer. */
export function outsideLink(href: string, text: string): HTMLElement {
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, text);
}

export function runLink(id: string, text = id.slice(0, 8)): HTMLElement {
  return h('a', { href: `/runs/${encodeURIComponent(id)}`, class: 'run-id', title: id }, text);
}

/** A definition list from label/value pairs; pairs whose value is empty are left out. */
export function facts(pairs: [string, Child][]): HTMLElement {
  const list = h('dl', { class: 'facts' });
  for (const [label, value] of pairs) if (value !== null && value !== undefined && value !== '') list.append(h('dt', {}, label), h('dd', {}, value));
  return list;
}

export function bytes(size: number | null): string {
  if (size === null) return '—';
  if (size < 1024) return `${size} B`;
  return size < 1024 * 1024 ? `${(size / 1024).toFixed(1)} KiB` : `${(size / 1024 / 1024).toFixed(1)} MiB`;
}

/** A wait in words: the service's message, how many go first, and until when where known. */
export function waitText(wait: { message: string; position: number | null; until: string | null; reason: string }): string {
  const ahead = wait.position !== null && wait.reason === 'CODEX_CAPACITY' ? ` (${wait.position} ahead)` : '';
  const until = wait.until && wait.reason !== 'CODEX_CAPACITY' ? ` until ${new Date(wait.until).toLocaleTimeString()}` : '';
  return `${wait.message}${ahead && !wait.message.includes('ahead') ? ahead : ''}${until}`;
}
