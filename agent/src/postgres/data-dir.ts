import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FatalError } from '../errors';
import { type ControlData, readControlData } from './controldata';
import type { SpawnWrapping } from './run-as';

/** What is in the data directory before the agent touches it. */
export type DataDirState =
  | { readonly kind: 'missing' }
  | { readonly kind: 'empty' }
  /** A Postgres data directory; `control` describes it. */
  | { readonly kind: 'initialized'; readonly control: ControlData }
  /** Files, but no PG_VERSION: not ours, never touched. */
  | { readonly kind: 'foreign'; readonly entries: readonly string[] };

export async function inspectDataDir(o: SpawnWrapping & { binDir: string; dataDir: string; cwd: string }): Promise<DataDirState> {
  let entries: string[];
  try {
    entries = await readdir(o.dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw new FatalError('cannot read the data directory', { dataDir: o.dataDir }, { cause: err });
  }
  // lost+found is what a fresh ext4 volume holds; it does not make the directory someone's cluster.
  const meaningful = entries.filter((e) => e !== 'lost+found');
  if (meaningful.length === 0) return { kind: 'empty' };
  if (!meaningful.includes('PG_VERSION')) return { kind: 'foreign', entries: meaningful.slice(0, 10) };
  return { kind: 'initialized', control: await readControlData(o) };
}

/**
 * The data-directory guard: refuses, with a FatalError naming both identifiers, a data directory that belongs to
 * another cluster than `expected` (the system identifier recorded when the cluster was initialized), and one that
 * holds something other than Postgres. Missing and empty directories pass: there is nothing to protect.
 */
export function assertSameCluster(dataDir: string, state: DataDirState, expected: string | undefined): void {
  if (state.kind === 'foreign') {
    throw new FatalError('data directory is not empty and holds no PostgreSQL cluster; refusing to touch it', { dataDir, entries: state.entries });
  }
  if (state.kind !== 'initialized' || expected === undefined) return;
  if (state.control.systemIdentifier !== expected) {
    throw new FatalError('data directory belongs to another cluster (system identifier mismatch); refusing to touch it', {
      dataDir,
      found: state.control.systemIdentifier,
      expected,
    });
  }
}

/** The PID in postmaster.pid when that process is still alive, otherwise undefined. */
export async function livePostmasterPid(dataDir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return undefined;
    // A stale lock file's PID may have been reused by an unrelated process.
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return /postgres|postmaster/.test(cmdline) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Empties the data directory for a re-clone, keeping the directory itself (it may be a volume's mount point, and
 * keeps its owner and mode). Refuses while a postmaster runs on it.
 */
export async function emptyDataDir(dataDir: string): Promise<void> {
  if (!existsSync(dataDir)) return;
  const pid = await livePostmasterPid(dataDir);
  if (pid !== undefined) throw new FatalError('postgres is still running on the data directory; stop it before removing the data', { dataDir, pid });
  for (const e of await readdir(dataDir)) {
    if (e === 'lost+found') continue;
    await rm(join(dataDir, e), { recursive: true, force: true });
  }
}
