import { join } from 'node:path';
import type { Client } from 'pg';
import { ConfigError } from '../errors';
import { type SettingValue, isValidSettingName, settingText } from './conf-file';
import { type ConfFile, readSettingsFile, writeSettingsFile } from './owned-files';
import { LOG_LINE_PREFIX, parseLogLine } from './postgres-log';
import type { SpawnWrapping } from './run-as';
import { runTool } from './run-tool';

/** Splits Patroni's `listen` form, `host[,host...]:port` (IPv6 hosts may be bracketed). */
export function parseListen(listen: string): { addresses: string; port: number } {
  const i = listen.lastIndexOf(':');
  const port = Number(listen.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError('postgresql.listen', listen, 'must be host:port, e.g. 0.0.0.0:5432');
  }
  const addresses = listen
    .slice(0, i)
    .split(',')
    .map((h) => h.trim().replace(/^\[(.*)\]$/, '$1'))
    .join(',');
  return { addresses, port };
}

/** The settings the agent depends on; `parameters` may override the sizes, not the rest (see PROTECTED_PARAMETERS). */
export function baseSettings(o: { listen: string; socketDir: string }): Record<string, SettingValue> {
  const { addresses, port } = parseListen(o.listen);
  return {
    listen_addresses: addresses,
    port,
    unix_socket_directories: o.socketDir,
    wal_level: 'replica',
    hot_standby: true,
    max_wal_senders: 10,
    max_replication_slots: 10,
    // pg_rewind needs hint-bit changes WAL-logged (data checksums do that too; this covers clusters made without).
    wal_log_hints: true,
    // pg_rewind reads the former primary's own WAL back to the last checkpoint both histories share; keeping some
    // WAL makes that checkpoint likely to still be there (a restore_command can cover longer gaps).
    wal_keep_size: '128MB',
    password_encryption: 'scram-sha-256',
    // Postgres writes to stderr, which the agent reads and re-emits as JSON.
    logging_collector: false,
    log_destination: 'stderr',
    log_line_prefix: LOG_LINE_PREFIX,
  };
}

/** Settings the agent manages itself; `parameters` naming them is a configuration error. */
export const PROTECTED_PARAMETERS: ReadonlySet<string> = new Set([
  'listen_addresses',
  'port',
  'unix_socket_directories',
  'primary_conninfo',
  'primary_slot_name',
  'synchronous_standby_names',
  'data_directory',
  'config_file',
  'hba_file',
  'ident_file',
  'logging_collector',
  'log_destination',
  'log_line_prefix',
]);

/** Validates `postgresql.parameters` names and lower-cases them (Postgres setting names are case-insensitive). */
export function normalizeParameters(params: Readonly<Record<string, SettingValue>>): Record<string, SettingValue> {
  const out: Record<string, SettingValue> = {};
  for (const [rawName, value] of Object.entries(params)) {
    const name = rawName.toLowerCase();
    if (!isValidSettingName(name)) throw new ConfigError(`postgresql.parameters.${rawName}`, value, 'is not a valid setting name');
    if (PROTECTED_PARAMETERS.has(name)) throw new ConfigError(`postgresql.parameters.${rawName}`, value, 'is managed by pgha and cannot be set here');
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ConfigError(`postgresql.parameters.${rawName}`, value, 'must be a string, number or boolean');
    }
    out[name] = value;
  }
  return translateRenamed(out);
}

/** WAL segment size of clusters the agent creates (initdb's default). */
const WAL_SEGMENT_MB = 16;

/**
 * Settings PostgreSQL renamed, translated as Patroni translates them: `wal_keep_segments` (gone in PostgreSQL 13)
 * becomes `wal_keep_size` of as many segments, unless `wal_keep_size` is given too.
 */
function translateRenamed(params: Record<string, SettingValue>): Record<string, SettingValue> {
  if (params.wal_keep_segments === undefined) return params;
  const { wal_keep_segments: segments, ...rest } = params;
  const n = Number(segments);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError('postgresql.parameters.wal_keep_segments', segments, 'must be a whole number of segments');
  return rest.wal_keep_size !== undefined ? rest : { ...rest, wal_keep_size: `${n * WAL_SEGMENT_MB}MB` };
}

export interface SettingsChange {
  /** Names whose value changed (including removed ones), sorted. */
  readonly changed: readonly string[];
  /** Of those, the ones that take effect only after a restart (pg_settings.context = 'postmaster'). */
  readonly restartRequired: readonly string[];
}

function diff(before: Readonly<Record<string, string>>, after: Readonly<Record<string, SettingValue>>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => before[n] !== (after[n] === undefined ? undefined : settingText(after[n]))).sort();
}

/** Where `postgres -C` finds the binary and runs, to check a configuration exactly as a server start would. */
export interface SettingsCheck extends SpawnWrapping {
  readonly binDir: string;
  readonly cwd: string;
}

/**
 * Asks Postgres itself whether the configuration in `dataDir` is valid: `postgres -C` reads every file as a start
 * would and fails on an unknown name or an invalid value (for restart-only settings too, which a reload cannot
 * check). Returns the refusal, or undefined when the configuration is valid.
 */
async function checkConfiguration(check: SettingsCheck, dataDir: string): Promise<{ name?: string; message: string } | undefined> {
  const res = await runTool({ ...check, binary: join(check.binDir, 'postgres'), args: ['-D', dataDir, '-C', 'server_version_num'], timeoutMs: 30_000 });
  if (res.code === 0) return undefined;
  const lines = res.stderr.split('\n').map((l) => parseLogLine(l).message);
  const cause = lines.find((l) => /parameter "/.test(l)) ?? lines.find((l) => l.trim() !== '') ?? 'postgres -C failed';
  return { name: /parameter "([^"]+)"/.exec(cause)?.[1], message: cause };
}

/**
 * Replaces one owned settings file and, when Postgres runs (`client` given), reloads it. The new file is first
 * checked by Postgres itself; an unknown name or an invalid value is refused with a ConfigError and the previous
 * file is put back, so a bad change can neither be half-applied by a reload nor stop the next start. Reports what
 * changed and what waits for a restart.
 */
export async function replaceSettings(
  o: { dataDir: string; file: ConfFile; check: SettingsCheck; client: Client | undefined },
  settings: Readonly<Record<string, SettingValue>>,
): Promise<SettingsChange> {
  const before = await readSettingsFile(o.dataDir, o.file);
  const changed = diff(before, settings);
  if (changed.length === 0) return { changed, restartRequired: [] };
  await writeSettingsFile(o.dataDir, o.file, settings, o.check.runAs);
  const refused = await checkConfiguration(o.check, o.dataDir);
  if (refused) {
    await writeSettingsFile(o.dataDir, o.file, before, o.check.runAs);
    const name = refused.name?.toLowerCase();
    throw new ConfigError(
      `postgresql.parameters.${name ?? changed.join(',')}`,
      name ? settings[name] : undefined,
      `was refused by PostgreSQL: ${refused.message}`,
    );
  }
  if (!o.client) return { changed, restartRequired: [] };
  const known = await o.client.query<{ name: string; context: string }>('SELECT name, context FROM pg_settings WHERE name = ANY($1)', [changed]);
  await o.client.query('SELECT pg_reload_conf()');
  const restartOnly = new Set(known.rows.filter((r) => r.context === 'postmaster').map((r) => r.name));
  return { changed, restartRequired: changed.filter((n) => restartOnly.has(n)) };
}
