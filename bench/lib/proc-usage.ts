// What a process costs, read from /proc: CPU seconds it used itself (utime + stime) and its resident memory.
import { readFileSync } from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat times; 100 on every Linux this runs on (USER_HZ). */
const USER_HZ = 100;

/** CPU seconds the process has used itself (utime + stime; waited-for children not included), or undefined if gone. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in MB from /proc: VmRSS (all resident pages) or RssAnon (private: heap, stacks). */
export function residentMb(pid: number | undefined, field: 'VmRSS' | 'RssAnon'): number | undefined {
  if (!pid) return undefined;
  try {
    const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}
