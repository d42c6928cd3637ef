import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type SettingValue, parseConfFile, renderConfFile } from './conf-file';
import { handOver, type RunAs } from './run-as';

/**
 * The files the agent owns. Settings live in `pgha.conf.d/` inside the data directory, one file per concern, each
 * rewritten whole, and included at the end of initdb's `postgresql.conf` (so they win over it; `postgresql.auto.conf`
 * is never written: no ALTER SYSTEM). Later files win over earlier ones.
 */
export const CONF_DIR = 'pgha.conf.d';
export const CONF_FILES = {
  /** Listen address, replication and logging settings the agent depends on. */
  base: '00-base.conf',
  /** `postgresql.parameters` and the dynamic configuration's parameters. */
  parameters: '10-parameters.conf',
  /** primary_conninfo and primary_slot_name while a standby. */
  standby: '20-standby.conf',
  /** synchronous_standby_names, managed by synchronous mode. */
  sync: '30-sync.conf',
} as const;
export type ConfFile = keyof typeof CONF_FILES;

const INCLUDE_LINE = `include_dir = '${CONF_DIR}'`;

/** Writes a file atomically (temp file and rename) with `mode`, owned by the Postgres user. */
export async function writeOwnedFile(path: string, content: string, mode: number, runAs: RunAs | undefined): Promise<void> {
  const tmp = `${path}.pgha-tmp`;
  await writeFile(tmp, content, { mode });
  await chmod(tmp, mode);
  await handOver(tmp, runAs);
  await rename(tmp, path);
}

export function confFilePath(dataDir: string, file: ConfFile): string {
  return join(dataDir, CONF_DIR, CONF_FILES[file]);
}

/** Writes one settings file (creating the directory and the include line if needed). */
export async function writeSettingsFile(
  dataDir: string,
  file: ConfFile,
  settings: Readonly<Record<string, SettingValue>>,
  runAs: RunAs | undefined,
): Promise<void> {
  const dir = join(dataDir, CONF_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await handOver(dir, runAs);
  await writeOwnedFile(confFilePath(dataDir, file), renderConfFile(`pgha: ${file} settings`, settings), 0o600, runAs);
  await ensureIncluded(dataDir, runAs);
}

/** Reads one settings file back (empty when it does not exist). */
export async function readSettingsFile(dataDir: string, file: ConfFile): Promise<Record<string, string>> {
  try {
    return parseConfFile(await readFile(confFilePath(dataDir, file), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

/** Appends the include line to postgresql.conf once. */
async function ensureIncluded(dataDir: string, runAs: RunAs | undefined): Promise<void> {
  const path = join(dataDir, 'postgresql.conf');
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text.split('\n').some((l) => l.trim() === INCLUDE_LINE)) return;
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  await writeOwnedFile(path, `${text}${sep}\n# Added by pgha: the settings it manages.\n${INCLUDE_LINE}\n`, 0o600, runAs);
}

/** Makes the server start as a standby (`present`) or as a primary. */
export async function setStandbySignal(dataDir: string, present: boolean, runAs: RunAs | undefined): Promise<void> {
  const path = join(dataDir, 'standby.signal');
  if (present) await writeOwnedFile(path, '', 0o600, runAs);
  else await rm(path, { force: true });
}
