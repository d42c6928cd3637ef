import type { Client } from 'pg';
import { parseOptionalLsn } from './lsn';

/** One row of pg_stat_replication: a standby streaming from this server. */
export interface ReplicationConnection {
  readonly pid: number;
  readonly usename: string;
  readonly applicationName: string;
  readonly clientAddr: string | null;
  readonly state: string;
  readonly syncState: string;
  readonly syncPriority: number;
  readonly sentLsn?: bigint;
  readonly writeLsn?: bigint;
  readonly flushLsn?: bigint;
  readonly replayLsn?: bigint;
}

/** What a running, connectable Postgres says about itself, read in one round of queries. */
export interface ServerFacts {
  readonly inRecovery: boolean;
  /**
   * The current timeline: of the WAL being written (primary); on a standby the newest it knows of: the one it
   * receives, else the newest timeline history file it fetched into pg_wal (a standby gets that file when it follows
   * a promotion), else its last restartpoint's. Without the history files, a standby whose WAL receiver is down
   * (as when the leader just died) would report the timeline of an old restartpoint and look stale.
   */
  readonly timeline: number;
  /**
   * The timeline of the latest checkpoint (restartpoint on a standby). On a fresh primary it stays below `timeline`
   * until the first checkpoint after promotion; pg_rewind against this server is reliable only once they match
   * (Patroni's `checkpoint_after_promote`).
   */
  readonly checkpointTimeline: number;
  /** Primary only: pg_current_wal_lsn() and pg_current_wal_flush_lsn(). */
  readonly currentLsn?: bigint;
  readonly flushLsn?: bigint;
  /** Standby only. */
  readonly receivedLsn?: bigint;
  readonly replayedLsn?: bigint;
  readonly replayedTimestamp?: Date;
  readonly replayPaused: boolean;
  /** Standby only: `streaming` while the WAL receiver streams, otherwise `in archive recovery` (Patroni's wording). */
  readonly replicationState?: 'streaming' | 'in archive recovery';
  readonly systemIdentifier: string;
  readonly serverVersionNum: number;
  readonly postmasterStartTime: Date;
  readonly replication: readonly ReplicationConnection[];
  /** Settings changed in the files that take effect only after a restart. */
  readonly pendingRestart: readonly string[];
}

const FACTS_SQL = `
SELECT pg_is_in_recovery() AS in_recovery,
       current_setting('server_version_num')::int AS server_version_num,
       pg_postmaster_start_time() AS postmaster_start_time,
       (SELECT system_identifier::text FROM pg_control_system()) AS system_identifier,
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current_lsn,
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_flush_lsn()::text END AS flush_lsn,
       pg_last_wal_receive_lsn()::text AS received_lsn,
       pg_last_wal_replay_lsn()::text AS replayed_lsn,
       pg_last_xact_replay_timestamp() AS replayed_timestamp,
       CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END AS replay_paused,
       CASE WHEN pg_is_in_recovery()
            THEN greatest((SELECT received_tli FROM pg_stat_wal_receiver),
                          (SELECT max(('x' || substr(name, 1, 8))::bit(32)::int) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{8}[.]history$'),
                          (SELECT timeline_id FROM pg_control_checkpoint()))
            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int
       END AS timeline,
       (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_timeline,
       (SELECT status FROM pg_stat_wal_receiver) AS wal_receiver_status,
       ARRAY(SELECT name FROM pg_settings WHERE pending_restart ORDER BY name) AS pending_restart`;

const REPLICATION_SQL = `
SELECT pid, usename, application_name, client_addr::text AS client_addr, state, sync_state, sync_priority,
       sent_lsn::text AS sent_lsn, write_lsn::text AS write_lsn, flush_lsn::text AS flush_lsn, replay_lsn::text AS replay_lsn
  FROM pg_stat_replication ORDER BY application_name, pid`;

type Row = Record<string, unknown>;

function lsn(row: Row, key: string): bigint | undefined {
  return parseOptionalLsn(row[key] as string | null);
}

/** Reads the server facts over an open superuser connection. */
export async function readServerFacts(client: Client): Promise<ServerFacts> {
  const f = (await client.query<Row>(FACTS_SQL)).rows[0]!;
  const replication = (await client.query<Row>(REPLICATION_SQL)).rows.map((r): ReplicationConnection =>
    Object.freeze({
      pid: r.pid as number,
      usename: r.usename as string,
      applicationName: r.application_name as string,
      clientAddr: r.client_addr as string | null,
      state: r.state as string,
      syncState: r.sync_state as string,
      syncPriority: r.sync_priority as number,
      sentLsn: lsn(r, 'sent_lsn'),
      writeLsn: lsn(r, 'write_lsn'),
      flushLsn: lsn(r, 'flush_lsn'),
      replayLsn: lsn(r, 'replay_lsn'),
    }),
  );
  const inRecovery = f.in_recovery as boolean;
  return Object.freeze({
    inRecovery,
    timeline: f.timeline as number,
    checkpointTimeline: f.checkpoint_timeline as number,
    currentLsn: lsn(f, 'current_lsn'),
    flushLsn: lsn(f, 'flush_lsn'),
    receivedLsn: lsn(f, 'received_lsn'),
    replayedLsn: lsn(f, 'replayed_lsn'),
    replayedTimestamp: (f.replayed_timestamp as Date | null) ?? undefined,
    replayPaused: f.replay_paused as boolean,
    replicationState: inRecovery ? (f.wal_receiver_status === 'streaming' ? 'streaming' : 'in archive recovery') : undefined,
    systemIdentifier: f.system_identifier as string,
    serverVersionNum: f.server_version_num as number,
    postmasterStartTime: f.postmaster_start_time as Date,
    replication: Object.freeze(replication),
    pendingRestart: Object.freeze([...(f.pending_restart as string[])]),
  });
}
