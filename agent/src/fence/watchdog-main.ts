/**
 * The fence watchdog: a process of its own beside the agent, so a frozen agent (stopped, stuck, swapped out) can
 * never leave its PostgreSQL taking writes after its lease. The agent writes the lease deadline into the fence file
 * (`fence-state.ts`); when the deadline passes while a primary runs on the data directory (a postmaster without
 * standby.signal), the watchdog kills PostgreSQL's whole process group with SIGKILL at once, so no backend can
 * acknowledge another commit. It needs nothing from the agent at that moment: no event loop, no API.
 *
 *   node watchdog-main.js <fence-file> <data-dir>
 *
 * It exits once its agent is gone and nothing is left to fence. Deliberately tiny: Node built-ins only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFence, type FenceState, fenceExpired } from './fence-state';

/** How often the file is read while the deadline is further away; at the deadline the check runs at once. */
const POLL_MS = 250;

function log(level: 'info' | 'error', msg: string, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), level, component: 'fence-watchdog', msg, ...fields })}\n`);
}

function readFence(path: string): FenceState | undefined {
  try {
    return decodeFence(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The postmaster running on `dataDir` as a primary, if any (a standalone backend writes a negative PID). */
function runningPrimary(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    if (!/postgres|postmaster/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) return undefined;
  } catch {
    return undefined;
  }
  return existsSync(join(dataDir, 'standby.signal')) ? undefined : pid;
}

function kill(pid: number): void {
  try {
    // The postmaster leads its own process group: every backend goes in the same instant.
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

function main(fencePath: string, dataDir: string): void {
  const parent = process.ppid;
  const tick = () => {
    // A missing file before the agent's first write counts as nothing to fence; a broken one as expired.
    const state = readFence(fencePath) ?? { armed: false, agentPid: parent };
    const orphaned = process.ppid !== parent;
    if (orphaned && state.agentPid !== parent) process.exit(0); // A newer agent owns the file and has a watchdog of its own.
    const now = process.hrtime.bigint();
    const primary = runningPrimary(dataDir);
    if (primary !== undefined && fenceExpired(state, now)) {
      kill(primary);
      log('error', 'lease expired with postgres running as a primary; killed it', { pid: primary, dataDir });
    }
    if (orphaned && (primary === undefined || !state.armed || fenceExpired(state, now))) process.exit(0); // Nothing left to fence.
    const waitMs = state.armed && state.deadlineNs > now ? Math.min(POLL_MS, Number((state.deadlineNs - now) / 1_000_000n) + 1) : POLL_MS;
    setTimeout(tick, waitMs);
  };
  log('info', 'fence watchdog watching', { fence: fencePath, dataDir, agentPid: parent });
  tick();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => process.exit(0));
}

const [fencePath, dataDir] = process.argv.slice(2);
if (!fencePath || !dataDir) {
  process.stderr.write('usage: watchdog-main <fence-file> <data-dir>\n');
  process.exit(2);
}
main(fencePath, dataDir);
