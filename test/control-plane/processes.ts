import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';

/** A process this harness started; enough to find it again and stop it from another process. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** The executable, used to make sure a PID was not recycled before we signal it. */
  readonly binary: string;
  readonly log: string;
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
    return { name: o.name, pid: child.pid, binary: o.binary, log: o.log };
  } finally {
    closeSync(fd);
  }
}

/** True when `p.pid` is alive and still runs `p.binary` (not a recycled PID). Zombies count as dead. */
export function isRunning(p: ManagedProcess): boolean {
  const proc = `/proc/${p.pid}`;
  if (!existsSync(proc)) return false;
  try {
    const stat = readFileSync(`${proc}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
    const cmdline = readFileSync(`${proc}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(p.binary);
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
