import { collapseWhitespace } from './whitespace.js';

/**
 * Task ids as Spec Kit and its users write them: `T001`, `T056a`, `T082.6`, `T-NEW-A`. The id must end
 * the word, so `T001Create` or `Test` carry no id.
 */
const ID = /^T(?:\d+(?:\.\d+)*[A-Za-z]{0,2}|(?:-[A-Z0-9]+)+)(?![\p{L}\p{N}_]|\.\d)/u;

/** `[P]` (parallel) or `[US3]` (user story), in either order, before or after the id. */
const MARKER = /^\[(P|US\d+)\]/;

/** The separator a writer may put after an id: `T001: …`, `T001 - …`, `T001. …`. */
const AFTER_ID = /^(?:[ \t]*:|[ \t]+[-–—](?=\s)|\.(?=\s))?\s*/;

/** Emphasis or code that may wrap the id, and sometimes a label after it: `**T014e [Label]** text`. */
const WRAPPERS = ['**', '__', '`', '*', '_'];

export interface TaskText {
  id: string | null;
  parallel: boolean;
  story: string | null;
  description: string;
}

/**
 * Reads the head of a task's text (`T001 [P] [US1] Create x in src/x.ts`): the id, the markers, and the
 * rest as the description. Text with no id is all description.
 */
export function readTaskText(raw: string): TaskText {
  const result: TaskText = { id: null, parallel: false, story: null, description: '' };
  let rest = collapseWhitespace(raw);
  for (;;) {
    const marker = MARKER.exec(rest);
    if (marker) {
      if (marker[1] === 'P') result.parallel = true;
      else result.story ??= marker[1]!;
      rest = rest.slice(marker[0].length).trimStart();
      continue;
    }
    const found = result.id === null ? takeId(rest) : null;
    if (!found) break;
    result.id = found.id;
    rest = found.rest;
  }
  result.description = rest;
  return result;
}

/** The id at the start of `text`, bare or wrapped, and the text after it (wrapped labels kept). */
function takeId(text: string): { id: string; rest: string } | null {
  const bare = ID.exec(text);
  if (bare) return { id: bare[0], rest: text.slice(bare[0].length).replace(AFTER_ID, '') };
  const wrapper = WRAPPERS.find((w) => text.startsWith(w));
  if (!wrapper) return null;
  const close = text.indexOf(wrapper, wrapper.length);
  if (close < 0) return null;
  const inside = text.slice(wrapper.length, close).trim();
  const id = ID.exec(inside);
  if (!id) return null;
  const label = inside.slice(id[0].length).replace(AFTER_ID, '');
  const after = text.slice(close + wrapper.length).replace(AFTER_ID, '');
  return { id: id[0], rest: [label, after].filter((part) => part !== '').join(' ') };
}
