import { notFound } from './errors.js';

/** The kinds of node the emulator hands out ids for, with GitHub's id prefixes. */
export type NodeKind = 'R' | 'REF' | 'PR' | 'C' | 'U' | 'IC' | 'T';

/**
 * Opaque global ids shaped like GitHub's (`R_…`, `PR_…`): the prefix names the type, the rest encodes
 * what the emulator needs to find the object again (`owner/name`, `owner/name:refs/heads/x`, …).
 */
export function nodeId(kind: NodeKind, key: string): string {
  return `${kind}_${Buffer.from(key).toString('base64url')}`;
}

export function parseNodeId(id: string, expected?: NodeKind): { kind: NodeKind; key: string } {
  const m = /^(R|REF|PR|C|U|IC)_([A-Za-z0-9_-]+)$/.exec(id);
  if (!m || (expected && m[1] !== expected)) throw notFound(`Could not resolve to a node with the global id of '${id}'`);
  return { kind: m[1] as NodeKind, key: Buffer.from(m[2]!, 'base64url').toString('utf8') };
}
