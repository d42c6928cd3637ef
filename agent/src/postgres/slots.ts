import type { Client } from 'pg';
import { ConflictError } from '../errors';
import { formatLsn, parseOptionalLsn } from './lsn';
import { isValidSlotName } from './slot-name';

export interface ReplicationSlot {
  readonly name: string;
  readonly type: 'physical' | 'logical';
  readonly active: boolean;
  readonly activePid?: number;
  readonly restartLsn?: bigint;
  /** Logical slots: the database and output plugin. */
  readonly database?: string;
  readonly plugin?: string;
}

function checkName(name: string): void {
  if (!isValidSlotName(name)) throw new RangeError(`invalid replication slot name ${JSON.stringify(name)}; use [a-z0-9_], at most 63 characters`);
}

export async function listSlots(client: Client): Promise<ReplicationSlot[]> {
  const res = await client.query<{
    slot_name: string;
    slot_type: string;
    active: boolean;
    active_pid: number | null;
    restart_lsn: string | null;
    database: string | null;
    plugin: string | null;
  }>(
    `SELECT slot_name, slot_type, active, active_pid, restart_lsn::text AS restart_lsn, database, plugin
       FROM pg_replication_slots WHERE NOT temporary ORDER BY slot_name`,
  );
  return res.rows.map((r) =>
    Object.freeze({
      name: r.slot_name,
      type: r.slot_type === 'logical' ? 'logical' : 'physical',
      active: r.active,
      activePid: r.active_pid ?? undefined,
      restartLsn: parseOptionalLsn(r.restart_lsn),
      ...(r.database !== null ? { database: r.database } : {}),
      ...(r.plugin !== null ? { plugin: r.plugin } : {}),
    }),
  );
}

/**
 * Creates a physical slot that reserves WAL at once (so nothing the standby will need is recycled before it
 * connects). Returns false when it already existed: safe to repeat.
 */
export async function createPhysicalSlot(client: Client, name: string): Promise<boolean> {
  checkName(name);
  const res = await client.query<{ created: boolean }>(
    `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1) THEN false
                 ELSE (SELECT true FROM pg_create_physical_replication_slot($1, true)) END AS created`,
    [name],
  );
  return res.rows[0]!.created;
}

/**
 * Moves a physical slot forward to `lsn` (on a standby, at most to what it replayed); returns where it is now. Never
 * moves it back: Postgres refuses that, and so does the plan.
 */
export async function advanceSlot(client: Client, name: string, lsn: bigint): Promise<bigint | undefined> {
  checkName(name);
  const res = await client.query<{ end_lsn: string | null }>('SELECT end_lsn::text AS end_lsn FROM pg_replication_slot_advance($1, $2::pg_lsn)', [
    name,
    formatLsn(lsn),
  ]);
  return parseOptionalLsn(res.rows[0]?.end_lsn);
}

/**
 * Drops a slot. Returns false when it did not exist. A slot a standby is streaming from cannot be dropped: that is
 * a ConflictError, and the caller retries once the standby is gone.
 */
export async function dropSlot(client: Client, name: string): Promise<boolean> {
  checkName(name);
  try {
    const res = await client.query<{ dropped: boolean }>(
      `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)
                   THEN (SELECT true FROM (SELECT pg_drop_replication_slot($1)) AS d) ELSE false END AS dropped`,
      [name],
    );
    return res.rows[0]!.dropped;
  } catch (err) {
    // 55006 object_in_use: the slot is active.
    if ((err as { code?: string }).code === '55006') throw new ConflictError('replication slot is in use', { slot: name }, { cause: err });
    throw err;
  }
}
