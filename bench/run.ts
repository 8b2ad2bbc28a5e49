import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../src/log.js';
import { benchArtifacts } from './artifacts.js';
import { benchChain } from './chain.js';
import { benchServer, type BenchServer } from './database.js';
import { LOG_LEVEL } from './service.js';
import { benchHostileMarkdown } from './hostile-markdown.js';
import { benchSpeckit } from './speckit.js';
import { benchStartup } from './startup.js';
import { benchSubscriptions } from './subscriptions.js';

// dist/bench/run.js → bench/RESULTS.md in the source tree.
const RESULTS = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));
/** The whole run stops by itself after this, whatever is still going. */
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_MINUTES ?? 90) * 60_000;

const load = () => os.loadavg().map((n) => n.toFixed(2)).join(' / ');

/** Every benchmark, in the order RESULTS.md lists them; `npm run bench -- <name> …` runs only those named (and prints them). */
const BENCHES: [string, (server: BenchServer, log: Logger) => Promise<string>][] = [
  ['speckit', () => benchSpeckit()],
  ['hostile-markdown', () => benchHostileMarkdown()],
  ['chain', (server, log) => benchChain(server, log)],
  ['subscriptions', (server) => benchSubscriptions(server)],
  ['artifacts', (server) => benchArtifacts(server)],
  ['startup', () => benchStartup()],
];

function choose(names: string[]): typeof BENCHES {
  const unknown = names.filter((name) => !BENCHES.some(([known]) => known === name));
  if (unknown.length) throw new Error(`no benchmark named ${unknown.join(', ')}; there are ${BENCHES.map(([name]) => name).join(', ')}`);
  return names.length ? BENCHES.filter(([name]) => names.includes(name)) : BENCHES;
}

async function main(): Promise<void> {
  const chosen = choose(process.argv.slice(2));
  const log = createLogger(LOG_LEVEL, process.stderr);
  const server = await benchServer(log);
  const startLoad = load();
  const started = new Date();
  const cpus = os.cpus();
  const sections: string[] = [];
  const print = (section: string) => {
    sections.push(section);
    process.stdout.write(`${section}\n`);
  };
  try {
    for (const [, bench] of chosen) print(await bench(server, log));
  } finally {
    await server.stop();
  }
  if (chosen.length < BENCHES.length) {
    process.stdout.write(`only ${chosen.map(([name]) => name).join(', ')}: ${RESULTS} left as it was\n`);
    return;
  }
  const endLoad = load();
  const busy = Math.max(...os.loadavg()) > cpus.length;
  const header = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); every figure below comes from that one run.',
    '',
    `- Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory, ${os.type()} ${os.release()}`,
    `- Node ${process.version}; PostgreSQL ${server.version} (${server.source})`,
    `- Date: ${started.toISOString()}; took ${((Date.now() - started.getTime()) / 60_000).toFixed(1)} min`,
    `- Load average (1 / 5 / 15 min) at start ${startLoad}, at end ${endLoad}` +
      (busy ? ` — above the ${cpus.length} cores: other work shared the machine, so absolute times are inflated; the ratios measured in the same run are the figures to compare.` : ''),
    '',
  ].join('\n');
  await writeFile(RESULTS, [header, ...sections].join('\n'));
  process.stdout.write(`wrote ${RESULTS}\n`);
}

const deadline = setTimeout(() => {
  process.stderr.write(`benchmarks did not finish within ${DEADLINE_MS / 60_000} min; stopping\n`);
  process.exit(2);
}, DEADLINE_MS);
deadline.unref();

main().then(
  // Pools and timers of libraries may linger: the run is over when the file is written.
  () => process.exit(0),
  (err) => {
    process.stderr.write(`benchmark failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
