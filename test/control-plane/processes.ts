import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { sleep } from '../../agent/src/clock';

/** A process this harness started; enough to find it again and stop it from another process. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** The executable it runs (after any prefix has exec'd into it). */
  readonly binary: string;
  readonly log: string;
  /**
   * Its start time in clock ticks since boot (`/proc/<pid>/stat` field 22): the same PID with another start time
   * is another process. Stable across exec, so a process still in its prefix (nsenter, a cgroup join) counts as alive.
   */
  readonly startTicks?: number;
}

/** Field 22 of /proc/<pid>/stat, or undefined when the process is gone. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces; fields after it are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

export interface StartOptions {
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly log: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Kill the process when the Node process that started it dies (test runs). Off for the sandbox, whose processes
   * outlive the command that started them.
   */
  readonly dieWithParent: boolean;
  /** Wrap the command, e.g. `['ip', 'netns', 'exec', 'x']`. The wrapper must exec, keeping the PID. */
  readonly prefix?: readonly string[];
}

export function startProcess(o: StartOptions): ManagedProcess {
  const fd = openSync(o.log, 'a');
  const argv = [...(o.prefix ?? []), ...(o.dieWithParent ? ['setpriv', '--pdeathsig', 'KILL', '--'] : []), o.binary, ...o.args];
  try {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: ['ignore', fd, fd],
      detached: !o.dieWithParent,
    });
    if (child.pid === undefined) throw new Error(`could not start ${o.name} (${o.binary}); read ${o.log}`);
    child.unref();
    return { name: o.name, pid: child.pid, binary: o.binary, log: o.log, startTicks: processStartTicks(child.pid) };
  } finally {
    closeSync(fd);
  }
}

/** Whether a process with this PID exists (a zombie counts: use `isRunning` for a process we started). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when `p.pid` is alive and is still the process we started (not a recycled PID). Zombies count as dead. */
export function isRunning(p: ManagedProcess): boolean {
  const proc = `/proc/${p.pid}`;
  if (!existsSync(proc)) return false;
  try {
    const stat = readFileSync(`${proc}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
    if (p.startTicks !== undefined) return processStartTicks(p.pid) === p.startTicks;
    const cmdline = readFileSync(`${proc}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(p.binary);
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Only ever signals our own PIDs. */
export async function stopProcess(p: ManagedProcess, graceMs = 5000): Promise<void> {
  if (!isRunning(p)) return;
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(p)) return;
    await sleep(50);
  }
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && isRunning(p); i++) await sleep(20);
}

/** The last lines of a log file, for error messages. */
export function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
