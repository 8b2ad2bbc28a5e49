/**
 * Reads the file headers of a diff the way `git apply` does, to learn every path it names before
 * anything is applied. Hunks are skipped by their line counts (as git does), so a removed line that
 * happens to start with `--- ` is never taken for a header; binary sections are skipped whole.
 */

/** One name a patch gives a file. */
export interface PatchName {
  /** As written, unquoted. */
  raw: string;
  /**
   * `prefixed`: carries a `a/`-style first component that `git apply -p1` strips (diff --git, ---, +++).
   * `plain`: a repository path (rename/copy lines). `loose`: one word of a `diff --git` line that could
   * not be split into two names (names with spaces); only its segments can be judged.
   */
  form: 'prefixed' | 'plain' | 'loose';
}

export interface PatchFile {
  names: PatchName[];
  /** The patch creates a symbolic link here or changes where an existing one points. */
  symlink: boolean;
}

const HUNK = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;
const SYMLINK_MODE = /^(?:new file mode|new mode) 120000\s*$|^index [0-9a-f]+\.\.[0-9a-f]+ 120000\s*$/;
const PLAIN_NAME = /^(?:rename from|rename to|copy from|copy to|rename old|rename new) (.*)$/;

export function readPatchFiles(diff: string): PatchFile[] {
  const lines = diff.split('\n');
  const files: PatchFile[] = [];
  let current: PatchFile | undefined;
  let gitFormat = false;
  const start = () => {
    current = { names: [], symlink: false };
    files.push(current);
    return current;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('diff --git ')) {
      gitFormat = true;
      start().names.push(...gitHeaderNames(line.slice('diff --git '.length)));
      continue;
    }
    if (line === 'GIT binary patch') {
      // Base85 data lines never contain a space, so the next `diff --git ` line ends the section.
      while (i + 1 < lines.length && !lines[i + 1]!.startsWith('diff --git ')) i++;
      continue;
    }
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      const file = current ?? start();
      for (const header of [line, lines[i + 1]!]) {
        const name = traditionalName(header.slice(4));
        if (name !== '/dev/null') file.names.push({ raw: name, form: 'prefixed' });
      }
      i++;
      // A plain unified diff has no `diff --git` line: the next ---/+++ pair is another file.
      if (!gitFormat) current = undefined;
      continue;
    }
    const hunk = HUNK.exec(line);
    if (hunk) {
      i = skipHunk(lines, i + 1, Number(hunk[1] ?? 1), Number(hunk[2] ?? 1)) - 1;
      continue;
    }
    if (!current) continue;
    const plain = PLAIN_NAME.exec(line);
    if (plain) current.names.push({ raw: unquote(plain[1]!), form: 'plain' });
    else if (SYMLINK_MODE.test(line)) current.symlink = true;
  }
  return files.filter((f) => f.names.length > 0);
}

/** Returns the index of the first line after a hunk of `oldCount`/`newCount` lines. */
function skipHunk(lines: string[], from: number, oldCount: number, newCount: number): number {
  let i = from;
  while (i < lines.length && (oldCount > 0 || newCount > 0)) {
    const c = lines[i]![0];
    if (c === ' ' || c === undefined) {
      oldCount--;
      newCount--;
    } else if (c === '-') oldCount--;
    else if (c === '+') newCount--;
    else if (c !== '\\') break;
    i++;
  }
  return i;
}

/** The two names of `diff --git A B`. Unquoted names with spaces are split where both sides agree. */
function gitHeaderNames(rest: string): PatchName[] {
  if (rest.startsWith('"')) {
    const end = closingQuote(rest);
    const first = unquote(rest.slice(0, end + 1));
    const second = rest.slice(end + 1).trim();
    return [
      { raw: first, form: 'prefixed' },
      { raw: unquote(second), form: 'prefixed' },
    ];
  }
  const quotedSecond = rest.indexOf(' "');
  if (quotedSecond >= 0 && rest.endsWith('"')) {
    return [
      { raw: rest.slice(0, quotedSecond), form: 'prefixed' },
      { raw: unquote(rest.slice(quotedSecond + 1)), form: 'prefixed' },
    ];
  }
  for (let i = rest.indexOf(' '); i >= 0; i = rest.indexOf(' ', i + 1)) {
    const a = rest.slice(0, i);
    const b = rest.slice(i + 1);
    if (stripPrefix(a) === stripPrefix(b)) {
      return [
        { raw: a, form: 'prefixed' },
        { raw: b, form: 'prefixed' },
      ];
    }
  }
  return rest.split(' ').map((raw) => ({ raw, form: 'loose' as const }));
}

/** `--- a/x<TAB>2024-01-01 ...`: the name ends at a tab; quoted names follow C rules. */
function traditionalName(text: string): string {
  if (text.startsWith('"')) return unquote(text.slice(0, closingQuote(text) + 1));
  return text.split('\t')[0]!.replace(/\r$/, '');
}

/** What `git apply -p1` makes of a prefixed name: everything after the first slash. */
export function stripPrefix(name: string): string {
  const slash = name.indexOf('/');
  return slash < 0 ? name : name.slice(slash + 1);
}

function closingQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length - 1;
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** Undoes git's C-style quoting of a path (`"a/caf\303\251"`), decoding the octal bytes as UTF-8. */
export function unquote(text: string): string {
  if (!(text.length >= 2 && text.startsWith('"') && text.endsWith('"'))) return text;
  const bytes: number[] = [];
  const body = text.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body[i + 1] ?? '';
    const octal = /^[0-7]{3}/.exec(body.slice(i + 1));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(ESCAPES[next] ?? next.charCodeAt(0));
      i++;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
