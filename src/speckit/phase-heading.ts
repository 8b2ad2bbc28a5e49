/**
 * `Phase <id>` at the start of a heading's text, `<id>` being digits with optional dotted parts and an
 * optional letter suffix (`0`, `3.10`, `5b`) or one capital letter (`A`). The id must end the word, so
 * `Phase Dependencies` and `Phase Assumptions` are not phases.
 */
const PHASE = /^(?:Phase|PHASE|phase)[ \t\u00a0]+(\d+(?:\.\d+)*[A-Za-z]?|[A-Z])(?![\p{L}\p{N}_])/u;

/** What may stand between the id and the title: `:`, ` - `, ` – `, ` — `, `·`, `.`, or nothing. */
const SEPARATOR = /^[ \t\u00a0]*(?:[:·.–—-][ \t\u00a0]*)?/u;

/** The id and title of a phase heading, or null when the heading is not a phase. */
export function readPhaseHeading(text: string): { id: string; title: string } | null {
  const match = PHASE.exec(text.trim());
  if (!match) return null;
  const rest = text.trim().slice(match[0].length);
  return { id: match[1]!, title: rest.replace(SEPARATOR, '').trim() };
}
