import { formatLsn } from '../postgres/lsn';
import type { FailoverRequest, MemberRecord } from './cluster-view';

/** `GET /cluster`: Patroni's `cluster_as_json` shape, from the Pods and cluster objects. Pure. */
export function clusterJson(i: {
  scope: string;
  members: readonly MemberRecord[];
  holder: string | null;
  optime: bigint | undefined;
  syncStandbys: readonly string[];
  paused: boolean;
  failover: FailoverRequest | undefined;
}): Record<string, unknown> {
  const members = i.members.map((m) => {
    const s = m.status;
    const role = m.name === i.holder ? 'leader' : i.syncStandbys.includes(m.name) ? 'sync_standby' : 'replica';
    const state = (role !== 'leader' && typeof s.replication_state === 'string' ? s.replication_state : '') || (typeof s.state === 'string' ? s.state : '');
    const out: Record<string, unknown> = { name: m.name, role, state, api_url: m.apiUrl };
    try {
      const u = new URL(m.connUrl ?? '');
      if (u.hostname) out.host = u.hostname.replace(/^\[|\]$/g, '');
      out.port = Number(u.port || '5432');
    } catch {
      // No connection URL: host and port stay out, as in Patroni.
    }
    for (const k of ['timeline', 'pending_restart', 'pending_restart_reason', 'scheduled_restart', 'tags']) if (k in s) out[k] = s[k];
    if (m.name !== i.holder) {
      const lsn = typeof s.xlog_location === 'number' ? BigInt(Math.trunc(s.xlog_location)) : undefined;
      if (lsn === undefined) out.lag = 'unknown';
      else {
        out.lsn = formatLsn(lsn);
        out.lag = i.optime !== undefined && i.optime >= lsn ? Number(i.optime - lsn) : 0;
      }
    }
    return out;
  });
  members.sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const out: Record<string, unknown> = { members, scope: i.scope };
  if (i.paused) out.pause = true;
  if (i.failover?.scheduledAt)
    out.scheduled_switchover = {
      at: i.failover.scheduledAt,
      ...(i.failover.leader ? { from: i.failover.leader } : {}),
      ...(i.failover.member ? { to: i.failover.member } : {}),
    };
  return out;
}
