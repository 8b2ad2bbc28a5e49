#!/usr/bin/env node
import 'reflect-metadata';

const REQUIRED_NODE_MAJOR = 22;
const major = Number(process.versions.node.split('.')[0]);
if (major < REQUIRED_NODE_MAJOR) {
  // npm scripts put the `node` dev dependency first on PATH; this fires when install scripts were skipped.
  process.stderr.write(
    `spec-chain needs Node >= 22.12 (pg-boss 12); this is ${process.version}. Run it through npm (npm start, npx spec-chain) after a full npm install.\n`,
  );
  process.exit(1);
}

/** A subcommand: its line in the usage, and what runs it (resolving to the exit code). */
interface Command {
  usage: string;
  summary: string;
  run: (argv: string[]) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  start: {
    usage: 'start',
    summary: 'migrate, then serve and work in one process (embedded PostgreSQL when DATABASE_URL is unset)',
    run: async (argv) => (await import('./commands/start.js')).default(argv, 'start'),
  },
  serve: {
    usage: 'serve',
    summary: 'the GraphQL API, GraphiQL, run pages, /healthz, /readyz (DATABASE_URL required)',
    run: async (argv) => (await import('./commands/start.js')).default(argv, 'serve'),
  },
  work: {
    usage: 'work',
    summary: 'the step workers (DATABASE_URL required)',
    run: async (argv) => (await import('./commands/start.js')).default(argv, 'work'),
  },
  migrate: {
    usage: 'migrate',
    summary: "apply database migrations and pg-boss's schema (DATABASE_URL required)",
    run: async () => (await import('./commands/migrate.js')).default(),
  },
  discover: {
    usage: 'discover <path> [--feature <id>] [--json]',
    summary: 'print the next incomplete phase of a tasks.md, a feature folder or a repository checkout (exit 0 phase, 3 no work, 2 invalid)',
    run: async (argv) => (await import('./commands/discover.js')).discoverCommand(argv),
  },
  'print-schema': {
    usage: 'print-schema',
    summary: 'print the GraphQL schema (SDL)',
    run: async () => (await import('./commands/print-schema.js')).default(),
  },
};

const USAGE = [
  'usage: spec-chain <command> [options]',
  '',
  'commands:',
  ...Object.values(COMMANDS).flatMap((c) => [`  ${c.usage}`, `      ${c.summary}`]),
  '',
  'Configuration comes from environment variables (see .env.example); `spec-chain <command> --help` for a command.',
  '',
].join('\n');

async function main(): Promise<number> {
  const [name, ...argv] = process.argv.slice(2);
  if (name === undefined) {
    process.stderr.write(`spec-chain: name a command\n\n${USAGE}`);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`spec-chain: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  if (name !== 'discover' && (argv.includes('--help') || argv.includes('-h'))) {
    process.stdout.write(`usage: spec-chain ${command.usage}\n  ${command.summary}\n`);
    return 0;
  }
  return command.run(argv);
}

main().then(
  (code) => {
    // Long-running commands resolve only when shut down; short ones exit with their code.
    process.exitCode = code;
  },
  (error: unknown) => {
    const e = error as Error & { variable?: string };
    process.stderr.write(`spec-chain: ${e.name === 'ConfigError' ? 'configuration error: ' : ''}${e.message}\n`);
    process.exit(e.name === 'ConfigError' ? 2 : 1);
  },
);
