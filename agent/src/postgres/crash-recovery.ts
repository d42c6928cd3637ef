import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { TransientError } from '../errors';
import { readControlData } from './controldata';
import type { SpawnWrapping } from './run-as';
import { runTool, toolFailureDetails } from './run-tool';

/** Cluster states after which a data directory is consistent on disk and pg_rewind accepts it as a target. */
const CLEAN_STATES: ReadonlySet<string> = new Set(['shut down', 'shut down in recovery']);
/** Crash recovery replays the WAL written since the last checkpoint; the bound only catches a hung server. */
const RECOVERY_TIMEOUT_MS = 30 * 60_000;

export interface CrashRecoveryProps extends SpawnWrapping {
  readonly binDir: string;
  readonly dataDir: string;
  readonly cwd: string;
}

/**
 * Brings a data directory that was not shut down cleanly (a primary killed or fenced) to a consistent shutdown, as
 * Patroni does before pg_rewind: PostgreSQL in single-user mode runs crash recovery and, at the end of its (empty)
 * input, writes a shutdown checkpoint. The recovery signal files are set aside meanwhile (a standalone backend
 * refuses standby mode) and put back. Returns whether recovery was needed.
 */
export async function ensureCleanShutdown(p: CrashRecoveryProps): Promise<boolean> {
  const before = await readControlData(p);
  if (CLEAN_STATES.has(before.clusterState)) return false;
  const aside: [string, string][] = [];
  for (const f of ['standby.signal', 'recovery.signal']) {
    const path = join(p.dataDir, f);
    if (existsSync(path)) {
      await rename(path, `${path}.pgha-aside`);
      aside.push([`${path}.pgha-aside`, path]);
    }
  }
  try {
    const res = await runTool({
      ...p,
      binary: join(p.binDir, 'postgres'),
      // archive_mode off: WAL of a timeline that is about to be rewound must never reach an archive.
      args: ['--single', '-D', p.dataDir, '-c', 'archive_mode=off', 'postgres'],
      timeoutMs: RECOVERY_TIMEOUT_MS,
    });
    if (res.code !== 0)
      throw new TransientError('crash recovery in single-user mode failed', {
        dataDir: p.dataDir,
        state: before.clusterState,
        ...toolFailureDetails('postgres --single', res),
      });
  } finally {
    for (const [from, to] of aside) await rename(from, to);
  }
  const after = await readControlData(p);
  if (!CLEAN_STATES.has(after.clusterState))
    throw new TransientError('data directory still not shut down cleanly after crash recovery', { dataDir: p.dataDir, state: after.clusterState });
  return true;
}
