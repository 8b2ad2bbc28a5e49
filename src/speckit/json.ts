import type { Discovery, SpecError } from './types.js';

/** The machine-readable answer of discovery, the same for the CLI's `--json` and the GraphQL layer. */
export interface DiscoveryJson {
  status: Discovery['status'];
  phase: {
    id: string;
    title: string;
    line: number;
    parent: { id: string; title: string; line: number } | null;
    openTasks: { id: string | null; line: number; description: string; parallel: boolean; story: string | null }[];
    /** How many tasks of the phase are done already. */
    doneTasks: number;
  } | null;
  errors: SpecError[];
}

export function toDiscoveryJson(discovery: Discovery): DiscoveryJson {
  if (discovery.status === 'INVALID') return { status: 'INVALID', phase: null, errors: discovery.errors.map((error) => ({ ...error })) };
  if (discovery.status === 'NO_WORK') return { status: 'NO_WORK', phase: null, errors: [] };
  const { phase } = discovery;
  return {
    status: 'PHASE',
    phase: {
      id: phase.id,
      title: phase.title,
      line: phase.line,
      parent: phase.parent ? { id: phase.parent.id, title: phase.parent.title, line: phase.parent.line } : null,
      openTasks: phase.openTasks.map(({ id, line, description, parallel, story }) => ({ id, line, description, parallel, story })),
      doneTasks: phase.doneTasks.length,
    },
    errors: [],
  };
}
