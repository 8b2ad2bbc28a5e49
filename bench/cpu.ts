import { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Linux reports child CPU times in clock ticks of 1/100 s (USER_HZ) on every common platform. */
const TICKS_PER_SECOND = 100;

/**
 * CPU time used so far by this process and by the child processes it has waited for (git, run by the
 * steps and by the emulators), in ms. Children are read from /proc/self/stat; elsewhere they count 0.
 */
export function cpuMs(): { own: number; children: number } {
  const own = process.cpuUsage();
  let children = 0;
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name: state is field 3, cutime 16 and cstime 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    children = ((Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND) * 1000;
  } catch {
    // Not Linux: own CPU only.
  }
  return { own: (own.user + own.system) / 1000, children };
}

/**
 * Counts the child processes this process starts and the time spent inside `spawn` itself, which
 * forks and execs synchronously: the event loop waits that long for each one.
 */
export function countSpawns(): { count: number; ms: number; stop: () => void } {
  const proto = ChildProcess.prototype as unknown as { spawn: (...args: unknown[]) => unknown };
  const original = proto.spawn;
  const tally = {
    count: 0,
    ms: 0,
    stop: () => {
      proto.spawn = original;
    },
  };
  proto.spawn = function (this: ChildProcess, ...args: unknown[]) {
    const started = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      tally.count++;
      tally.ms += performance.now() - started;
    }
  };
  return tally;
}
