import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FatalError } from '../errors';
import { livePostmasterPid } from './data-dir';
import { sleep } from '../clock';

const POLL_MS = 100;
const KILL_WAIT_MS = 5_000;

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(sig === 'SIGKILL' ? -pid : pid, sig);
  } catch {
    // Gone already (or, for the group, not its leader: the postmaster alone then).
    try {
      process.kill(pid, sig);
    } catch {
      // Gone.
    }
  }
}

async function gone(dataDir: string, pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await livePostmasterPid(dataDir)) !== pid) return true;
    await sleep(POLL_MS);
  }
  return false;
}

/**
 * Takes charge of a postmaster that runs on the data directory but is not this agent's child (a previous agent
 * crashed and left it): it is stopped before anything else happens, never left running unmanaged. A standby
 * stops fast (clean); anything else may be a primary whose lease is over, so it stops immediately (no backend
 * acknowledges another commit). If it does not exit within `timeoutMs`, its process group is killed.
 * Returns the PID it stopped, or undefined when none ran.
 */
export async function stopStrayPostmaster(dataDir: string, timeoutMs: number): Promise<{ pid: number; mode: 'fast' | 'immediate' } | undefined> {
  const pid = await livePostmasterPid(dataDir);
  if (pid === undefined) return undefined;
  const mode = existsSync(join(dataDir, 'standby.signal')) ? 'fast' : 'immediate';
  signal(pid, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
  if (await gone(dataDir, pid, timeoutMs)) return { pid, mode };
  signal(pid, 'SIGKILL');
  if (await gone(dataDir, pid, KILL_WAIT_MS)) return { pid, mode };
  throw new FatalError('a postgres left running by a previous agent did not exit even after SIGKILL', { dataDir, pid });
}
