import type { MetricFamily } from '../metrics/agent-metrics';

/**
 * Prometheus text exposition of a member's status, with Patroni's metric names so existing dashboards and alerts
 * keep working. Built from the same status object `GET /patroni` returns, so the two never disagree.
 */

export interface MetricsInput {
  readonly scope: string;
  readonly name: string;
  /** The `GET /patroni` body. */
  readonly status: Readonly<Record<string, unknown>>;
  /** The agent's own metrics (`pgha_*`, see `AgentMetrics`), printed after Patroni's. */
  readonly families?: readonly MetricFamily[];
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const flag = (b: unknown): number => (b ? 1 : 0);

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function epochSeconds(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t / 1000;
}

export function renderMetrics(input: MetricsInput): string {
  const s = input.status;
  const labels = `{scope="${escapeLabel(input.scope)}",name="${escapeLabel(input.name)}"}`;
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number | undefined, extraLabels = labels) => {
    if (value === undefined) return;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name}${extraLabels} ${value}`);
  };
  const xlog = (s.xlog ?? {}) as Record<string, unknown>;
  const role = s.role;
  const patroni = (s.patroni ?? {}) as Record<string, unknown>;
  gauge('patroni_version', 'Version of the agent (as Patroni encodes it: major*10000 + minor*100 + patch).', versionNumber(patroni.version));
  gauge('patroni_postgres_running', 'Value is 1 if PostgreSQL is running, 0 otherwise.', flag(s.state === 'running'));
  gauge('patroni_postmaster_start_time', 'Epoch seconds since PostgreSQL started.', epochSeconds(s.postmaster_start_time));
  gauge('patroni_primary', 'Value is 1 if this node is the leader, 0 otherwise.', flag(role === 'primary' || role === 'master'));
  gauge('patroni_xlog_location', 'Current WAL location on the primary, in bytes.', num(xlog.location));
  gauge('patroni_standby_leader', 'Value is 1 if this node is the standby leader, 0 otherwise.', flag(role === 'standby_leader'));
  gauge('patroni_replica', 'Value is 1 if this node is a replica, 0 otherwise.', flag(role === 'replica'));
  gauge('patroni_sync_standby', 'Value is 1 if this node is a synchronous standby, 0 otherwise.', flag(s.sync_standby === true));
  gauge('patroni_xlog_received_location', 'Last WAL location received and synced to disk by replication, in bytes.', num(xlog.received_location));
  gauge('patroni_xlog_replayed_location', 'Last WAL location replayed during recovery, in bytes.', num(xlog.replayed_location));
  gauge('patroni_xlog_replayed_timestamp', 'Epoch seconds of the last replayed transaction.', epochSeconds(xlog.replayed_timestamp));
  gauge('patroni_xlog_paused', 'Value is 1 if WAL replay is paused, 0 otherwise.', xlog.paused === undefined ? undefined : flag(xlog.paused));
  gauge('patroni_postgres_server_version', 'Version of PostgreSQL (server_version_num).', num(s.server_version));
  gauge('patroni_cluster_unlocked', 'Value is 1 if the cluster is unlocked, 0 if locked.', flag(s.cluster_unlocked === true));
  gauge('patroni_postgres_timeline', 'PostgreSQL timeline of this node.', num(s.timeline));
  gauge('patroni_dcs_last_seen', 'Epoch seconds when Kubernetes was last reached successfully.', num(s.dcs_last_seen));
  gauge('patroni_pending_restart', 'Value is 1 if this node needs a restart, 0 otherwise.', flag(s.pending_restart === true));
  gauge('patroni_is_paused', 'Value is 1 if automatic failover is paused, 0 otherwise.', flag(s.pause === true));
  gauge('patroni_postgres_streaming', 'Value is 1 if this replica streams WAL from its upstream, 0 otherwise.', flag(s.replication_state === 'streaming'));
  gauge(
    'patroni_postgres_in_archive_recovery',
    'Value is 1 if this replica replays WAL from the archive, 0 otherwise.',
    flag(s.replication_state === 'in archive recovery'),
  );
  gauge('patroni_failsafe_mode_is_active', 'Value is 1 if this leader leads on failsafe promises, 0 otherwise.', flag(s.failsafe_mode_is_active === true));
  for (const f of input.families ?? []) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const sample of f.samples) {
      const extra = Object.entries(sample.labels ?? {}).map(([k, v]) => `,${k}="${escapeLabel(v)}"`);
      lines.push(`${f.name}${sample.suffix ?? ''}${labels.slice(0, -1)}${extra.join('')}} ${sample.value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function versionNumber(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m ? Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]) : undefined;
}
