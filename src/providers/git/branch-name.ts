import { createHash } from 'node:crypto';

/**
 * `spec-chain/<feature-id>/phase-<id>`, valid for git whatever the ids contain, and the same for the
 * same ids every time, so a repeat of a phase finds its branch (and its open pull request) again.
 * An id that had to be changed gets a short hash of the original, so two ids never share a branch.
 */
export function branchName(featureId: string, phaseId: string): string {
  return `spec-chain/${component(featureId)}/phase-${component(phaseId)}`;
}

const MAX_COMPONENT = 80;

function component(id: string): string {
  let safe = id
    .replace(/[^A-Za-z0-9._-]+/g, '-') // also turns `/`, `@{`, spaces, controls and ~^:?*[\ into dashes
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+|[.-]+$/g, '');
  while (safe.toLowerCase().endsWith('.lock')) safe = safe.slice(0, -5).replace(/[.-]+$/, '');
  if (safe === id && safe !== '' && safe.length <= MAX_COMPONENT) return safe;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 8);
  return `${safe.slice(0, MAX_COMPONENT).replace(/[.-]+$/, '') || 'id'}-${hash}`;
}

/** git check-ref-format's rules for `refs/heads/<name>`. */
export function isValidBranchName(name: string): boolean {
  if (name === '' || name === '@' || name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false;
  // check-ref-format allows a leading dash, but git would read such a name as an option.
  if (name.startsWith('-')) return false;
  if (/\.\.|@\{|\/\/|[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  return name.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'));
}
