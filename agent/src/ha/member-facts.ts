import type { MemberState } from '../core/model';
import type { PostgresSnapshot } from '../postgres/local-postgres';

/** The tags a member advertises (only those set away from their defaults, as Patroni shows configured tags). */
export interface MemberTags {
  readonly nofailover: boolean;
  readonly failoverPriority: number;
  readonly noloadbalance: boolean;
  readonly nosync: boolean;
}

export function tagsJson(t: MemberTags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (t.nofailover) out.nofailover = true;
  if (t.failoverPriority !== 1) out.failover_priority = t.failoverPriority;
  if (t.noloadbalance) out.noloadbalance = true;
  if (t.nosync) out.nosync = true;
  return out;
}

/** The member's write/receive position: flush LSN on a primary, max(receive, replay) on a standby. */
export function positionOf(snap: PostgresSnapshot | undefined): bigint | undefined {
  const s = snap?.server;
  if (!s) return undefined;
  if (!s.inRecovery) return s.flushLsn ?? s.currentLsn;
  const r = s.receivedLsn;
  const p = s.replayedLsn;
  if (r === undefined) return p;
  if (p === undefined) return r;
  return r > p ? r : p;
}

export interface StatusFieldsInput {
  readonly snap: PostgresSnapshot | undefined;
  readonly tags: MemberTags;
  /** The leader promoted and has not finished its first checkpoint yet. */
  readonly checkpointPending: boolean;
  readonly paused: boolean;
  /** Patroni's `scheduled_restart` (with `postmaster_start_time`). @default - none scheduled */
  readonly scheduledRestart?: Record<string, unknown>;
}

/**
 * Patroni's optional Pod status fields (besides conn_url, api_url, state, role, version): positions, timeline,
 * replication state, tags, pending restart. Split into the positions (which move with every write) and the rest,
 * so the caller can publish position changes less often.
 */
export function statusFields(i: StatusFieldsInput): { positions: Record<string, unknown>; other: Record<string, unknown> } {
  const s = i.snap?.server;
  const positions: Record<string, unknown> = {};
  const other: Record<string, unknown> = {};
  if (s) {
    const pos = positionOf(i.snap);
    if (pos !== undefined) positions.xlog_location = Number(pos);
    if (s.inRecovery) {
      if (s.receivedLsn !== undefined) positions.receive_lsn = Number(s.receivedLsn);
      if (s.replayedLsn !== undefined) positions.replay_lsn = Number(s.replayedLsn);
      if (s.replicationState) other.replication_state = s.replicationState;
    }
    other.timeline = s.timeline;
    if (s.pendingRestart.length > 0) {
      other.pending_restart = true;
      other.pending_restart_reason = Object.fromEntries(s.pendingRestart.map((p) => [p, { old_value: '', new_value: '' }]));
    }
    if (!s.inRecovery && i.checkpointPending) other.checkpoint_after_promote = false;
  }
  const tags = tagsJson(i.tags);
  if (Object.keys(tags).length > 0) other.tags = tags;
  if (i.paused) other.pause = true;
  if (i.scheduledRestart) other.scheduled_restart = i.scheduledRestart;
  return { positions, other };
}

export interface PatroniJsonInput {
  readonly snap: PostgresSnapshot | undefined;
  readonly state: MemberState;
  readonly role: 'primary' | 'replica' | 'demoted' | 'uninitialized';
  readonly scope: string;
  readonly name: string;
  readonly version: string;
  readonly dcsLastSeen: number;
  readonly tags: MemberTags;
  readonly paused: boolean;
  readonly clusterUnlocked: boolean;
  readonly syncStandby: boolean;
  /** Leading on failsafe promises (Patroni's `failsafe_mode_is_active`). @default false */
  readonly failsafeActive?: boolean;
  /** Patroni's `scheduled_restart` (without `postmaster_start_time`). @default - none scheduled */
  readonly scheduledRestart?: Record<string, unknown>;
}

const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** `postmaster_start_time` as Patroni shows it (`2030-01-01 10:00:00.123+00:00`). */
export const postmasterStartText = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '+00:00');

/** The body of `GET /patroni` (and of every health check), in Patroni's shape. */
export function patroniJson(i: PatroniJsonInput): Record<string, unknown> {
  const s = i.snap?.server;
  const out: Record<string, unknown> = { state: i.state, role: i.role };
  if (s) {
    out.postmaster_start_time = postmasterStartText(s.postmasterStartTime);
    out.server_version = s.serverVersionNum;
    out.timeline = s.timeline;
    if (s.inRecovery) {
      out.xlog = {
        received_location: s.receivedLsn !== undefined ? Number(s.receivedLsn) : undefined,
        replayed_location: s.replayedLsn !== undefined ? Number(s.replayedLsn) : undefined,
        replayed_timestamp: s.replayedTimestamp ? s.replayedTimestamp.toISOString() : null,
        paused: s.replayPaused,
      };
      if (s.replicationState) out.replication_state = s.replicationState;
    } else {
      out.xlog = { location: Number(s.flushLsn ?? s.currentLsn ?? 0n) };
    }
    if (s.replication.length > 0) {
      out.replication = s.replication.map((r) => ({
        usename: r.usename,
        application_name: r.applicationName,
        client_addr: r.clientAddr,
        state: r.state,
        sync_state: r.syncState,
        sync_priority: r.syncPriority,
      }));
    }
    out.database_system_identifier = s.systemIdentifier;
    if (s.pendingRestart.length > 0) out.pending_restart = true;
  }
  if (i.clusterUnlocked) out.cluster_unlocked = true;
  if (i.paused) out.pause = true;
  if (i.syncStandby) out.sync_standby = true;
  if (i.failsafeActive) out.failsafe_mode_is_active = true;
  if (i.scheduledRestart) out.scheduled_restart = i.scheduledRestart;
  const tags = tagsJson(i.tags);
  if (Object.keys(tags).length > 0) out.tags = tags;
  out.dcs_last_seen = i.dcsLastSeen;
  out.patroni = { version: i.version, scope: i.scope, name: i.name };
  return out;
}

export { epochSeconds };
