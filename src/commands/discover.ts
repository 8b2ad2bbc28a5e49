import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { closeTasksReader, configureTasksReader, discoverFeature, readTasks, readTasksFile, toDiscoveryJson, type Discovery } from '../speckit/index.js';

/** Where a command writes; the process's streams unless a caller (a test) passes its own. */
export interface CommandOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export const DISCOVER_EXIT = { PHASE: 0, INVALID: 2, NO_WORK: 3 } as const;

const USAGE =
  'usage: spec-chain discover <tasks.md | feature folder | repository> [--feature <id>] [--json]\n' +
  '  exit 0: a phase is next; 3: no remaining phases; 2: the file is invalid (or bad usage)\n';

/**
 * `spec-chain discover <path> [--feature <id>] [--json]`: prints the next phase of a tasks.md. The path is
 * the tasks.md itself, a feature folder holding one, or a repository checkout (then `--feature` or
 * `.specify/feature.json` names the feature). Returns the exit code.
 */
export async function discoverCommand(argv: string[], io: CommandOutput = process): Promise<number> {
  const args = readArgs(argv);
  if ('error' in args) {
    io.stderr.write(`${args.error}\n${USAGE}`);
    return DISCOVER_EXIT.INVALID;
  }
  if (args.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  // Read in a worker with the configured budget, as the service reads, so a hostile file ends as SPEC_TOO_COMPLEX here too.
  configureTasksReader(loadConfig().tasksRead);
  const discovery = await discoverPath(args.path, args.feature).finally(closeTasksReader);
  if (args.json) io.stdout.write(JSON.stringify(toDiscoveryJson(discovery), null, 2) + '\n');
  else if (discovery.status !== 'INVALID') io.stdout.write(describe(discovery));
  if (discovery.status === 'INVALID') {
    for (const error of discovery.errors) {
      io.stderr.write(`${error.file}${error.line === null ? '' : `:${error.line}`}: ${error.code}: ${error.message}\n`);
    }
  }
  return DISCOVER_EXIT[discovery.status];
}

type Args = { path: string; feature: string | undefined; json: boolean; help: boolean };

function readArgs(argv: readonly string[]): Args | { error: string } {
  const args: Args = { path: '', feature: undefined, json: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') args.json = true;
    else if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--feature') {
      const value = argv[++i];
      if (value === undefined) return { error: '--feature needs a feature id' };
      args.feature = value;
    } else if (arg.startsWith('--feature=')) args.feature = arg.slice('--feature='.length);
    else if (arg.startsWith('-')) return { error: `unknown option ${arg}` };
    else if (args.path !== '') return { error: `unexpected argument ${arg}` };
    else args.path = arg;
  }
  if (args.path === '' && !args.help) return { error: 'name the tasks.md, feature folder or repository to read' };
  return args;
}

/** A file is read as tasks.md; a folder holding tasks.md is a feature folder; any other folder a checkout. */
async function discoverPath(path: string, feature: string | undefined): Promise<Discovery> {
  const info = await stat(path).catch(() => null);
  let file = path;
  if (info?.isDirectory()) {
    const inFolder = join(path, 'tasks.md');
    if (feature !== undefined || !(await stat(inFolder).catch(() => null))) {
      return (await discoverFeature(path, feature, readTasks)).discovery;
    }
    file = inFolder;
  }
  const read = await readTasksFile(file);
  return 'error' in read ? { status: 'INVALID', file, errors: [read.error] } : readTasks(read.bytes, file);
}

function describe(discovery: Exclude<Discovery, { status: 'INVALID' }>): string {
  const { counts } = discovery;
  const outside = counts.outside > 0 ? `; ${counts.outside} checkbox(es) outside every phase ignored` : '';
  const tally = `${counts.phases} phase(s), ${counts.open} open, ${counts.done} done, ${counts.dropped} dropped task(s)${outside}`;
  if (discovery.status === 'NO_WORK') return `no remaining phases (${tally})\n`;
  const { phase } = discovery;
  const title = phase.title === '' ? '' : `: ${phase.title}`;
  const lines = [`Phase ${phase.id}${title} (${discovery.file}:${phase.line})`];
  if (phase.parent) lines.push(`  inside Phase ${phase.parent.id}${phase.parent.title === '' ? '' : `: ${phase.parent.title}`} (line ${phase.parent.line})`);
  lines.push(`  open: ${phase.openTasks.map((task) => task.id ?? `line ${task.line}`).join(', ')}`);
  lines.push(`  done in this phase: ${phase.doneTasks.length}; file: ${tally}`);
  return lines.join('\n') + '\n';
}
