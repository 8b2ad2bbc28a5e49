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

const USAGE = `usage: spec-chain <command> [options]

commands:
  start                 migrate, then serve and work in one process (embedded PostgreSQL when DATABASE_URL is unset)
  serve                 the GraphQL API, GraphiQL, health endpoints
  work                  the step workers
  migrate               apply database migrations and pg-boss's schema
  discover <path> [--json]
                        print the next incomplete phase of a tasks.md or feature folder
  print-schema          print the GraphQL schema (SDL)
`;

const commands: Record<string, () => Promise<{ default: (argv: string[]) => Promise<number | void> } | { [k: string]: unknown }>> = {
  start: () => import('./commands/start.js'),
  serve: () => import('./commands/start.js'),
  work: () => import('./commands/start.js'),
  migrate: () => import('./commands/migrate.js'),
  discover: () => import('./commands/discover.js'),
  'print-schema': () => import('./commands/print-schema.js'),
};

async function main(): Promise<number> {
  const [name, ...argv] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h' || !(name in commands)) {
    process.stderr.write(USAGE);
    return name && name !== '--help' && name !== '-h' ? 2 : 0;
  }
  const module = (await commands[name]!()) as Record<string, (argv: string[], name: string) => Promise<number | void>>;
  const run = module.default ?? module.discoverCommand!;
  const code = await run(argv, name);
  return code ?? 0;
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
