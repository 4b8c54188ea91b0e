/**
 * CPU time of other processes, from /proc (Linux): what a benchmark's worker processes and its PostgreSQL
 * server used, which the other programs sharing the machine blur far less than their rates do.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc's CPU times, 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

/**
 * CPU seconds process `pid` has used, every thread; with `children`, also its children that have exited and
 * been waited for (ffmpeg for a worker; a backend for the postmaster).
 */
export function processCpuSeconds(pid: number, { children = false } = {}): number {
  // After the command: state is field 3 of proc(5), utime 14, stime 15, cutime 16, cstime 17.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((at) => Number(fields[at]));
  return (utime! + stime! + (children ? cutime! + cstime! : 0)) / CLOCK_TICKS;
}

/** The processes `pid` started that are alive now. */
export function childPids(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}
