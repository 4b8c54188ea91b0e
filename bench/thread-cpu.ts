/**
 * Where this process's CPU time goes, by thread, read from /proc (Linux only): a cost per frame that the other
 * programs sharing the machine blur far less than frames per second. Node names none of its threads, so they
 * are told apart by when they started: the main thread, the threads that existed before a given moment (V8's
 * helpers, which collect garbage and compile for every thread of the process, and libuv's pool), and those
 * started after it (an engine's lanes and head threads), plus the child processes reaped meanwhile (ffmpeg).
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSnapshot {
  /** CPU ms per thread id. */
  threads: Map<string, number>;
  /** This process (every thread, finished ones too) and its reaped children, CPU ms. */
  process: number;
  children: number;
}

export interface CpuBreakdown {
  main: number;
  /** Threads started after `before` (see cpuBetween). */
  started: number;
  /** Threads that existed before it, other than the main thread. */
  helpers: number;
  children: number;
}

export const cpuAccountingWorks = process.platform === 'linux';

const TICK_MS = 10; // USER_HZ is 100 on every Linux Node runs on
/** utime + stime from a /proc stat line, fields 14 and 15 of proc(5): 11 and 12 counted from the state field. */
function statFields(path: string): string[] {
  return readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
}

export function cpuSnapshot(): CpuSnapshot {
  const threads = new Map<string, number>();
  if (!cpuAccountingWorks) return { threads, process: 0, children: 0 };
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const fields = statFields(`/proc/self/task/${tid}/stat`);
      threads.set(tid, (Number(fields[11]) + Number(fields[12])) * TICK_MS);
    } catch {
      // The thread ended between the listing and the read: what it used counts in the process total.
    }
  }
  const fields = statFields('/proc/self/stat');
  return {
    threads,
    process: (Number(fields[11]) + Number(fields[12])) * TICK_MS,
    children: (Number(fields[13]) + Number(fields[14])) * TICK_MS,
  };
}

/**
 * CPU ms between two snapshots. Threads present at `before` are the main thread and the helpers; everything
 * else the process used (threads started since, even those that have ended) counts as `started`.
 */
export function cpuBetween(before: CpuSnapshot, from: CpuSnapshot, to: CpuSnapshot): CpuBreakdown {
  const main = String(process.pid);
  const used = (tid: string) => (to.threads.get(tid) ?? from.threads.get(tid) ?? 0) - (from.threads.get(tid) ?? 0);
  let helpers = 0;
  for (const tid of before.threads.keys()) if (tid !== main) helpers += used(tid);
  const total = to.process - from.process;
  return { main: used(main), helpers, started: total - used(main) - helpers, children: to.children - from.children };
}
