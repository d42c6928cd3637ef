/**
 * What the cluster commands show, computed from the Kubernetes objects alone (as patronictl does): members from
 * their Pods' `status` annotation, the leader from the lock, sync standbys from `<scope>-sync`, the dynamic
 * configuration and history from `<scope>-config`. Pure: the objects come in, a frozen view comes out.
 */

/** The part of a Kubernetes object the view reads. */
export interface ObjectMeta {
  readonly metadata: {
    readonly name: string;
    readonly resourceVersion?: string;
    readonly annotations?: Readonly<Record<string, string>>;
  };
}

export interface ClusterObjects {
  readonly scope: string;
  readonly pods: readonly ObjectMeta[];
  readonly leader?: ObjectMeta;
  readonly config?: ObjectMeta;
  readonly sync?: ObjectMeta;
  readonly failover?: ObjectMeta;
}

export type MemberRole = 'Leader' | 'Standby Leader' | 'Sync Standby' | 'Replica';

export interface MemberView {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly role: MemberRole;
  readonly state: string;
  readonly timeline?: number;
  /** Bytes behind the leader's last published position; absent when either side is unknown. */
  readonly lagBytes?: number;
  readonly apiUrl?: string;
  readonly pendingRestart: boolean;
  /** When the member's scheduled restart is due (its `scheduled_restart.schedule`). @default - none scheduled */
  readonly scheduledRestart?: string;
  readonly tags: Readonly<Record<string, unknown>>;
}

export interface HistoryEntry {
  readonly timeline: number;
  readonly lsn: number;
  readonly reason: string;
  readonly timestamp?: string;
  readonly newLeader?: string;
}

export interface ScheduledSwitchover {
  readonly at?: string;
  readonly from?: string;
  readonly to?: string;
}

export interface ClusterView {
  readonly scope: string;
  /** The system identifier, from `initialize`; absent before bootstrap. */
  readonly systemId?: string;
  readonly leader?: string;
  readonly members: readonly MemberView[];
  readonly paused: boolean;
  readonly config?: Readonly<Record<string, unknown>>;
  /** The `-config` object's resourceVersion: the compare-and-swap version of `config`. */
  readonly configVersion?: string;
  readonly history: readonly HistoryEntry[];
  readonly scheduledSwitchover?: ScheduledSwitchover;
  /** Problems met while reading (a malformed annotation), shown to the user rather than hidden. */
  readonly warnings: readonly string[];
}

function parseJson(raw: string | undefined, what: string, warnings: string[]): unknown {
  if (raw === undefined || raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    warnings.push(`${what} is not valid JSON`);
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Host and port of `postgres://host:port/db`; Patroni's default port when absent. */
export function hostPort(connUrl: string | undefined): { host: string; port: number } {
  if (!connUrl) return { host: '', port: 5432 };
  try {
    const u = new URL(connUrl);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 5432 };
  } catch {
    return { host: connUrl, port: 5432 };
  }
}

function intOrUndefined(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function parseHistory(raw: string | undefined, warnings: string[]): HistoryEntry[] {
  const v = parseJson(raw, 'history', warnings);
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    warnings.push('history is not a list');
    return [];
  }
  return v.flatMap((e): HistoryEntry[] => {
    if (!Array.isArray(e) || e.length < 3) return [];
    const [tl, lsn, reason, ts, leader] = e as unknown[];
    return [
      {
        timeline: intOrUndefined(tl) ?? 0,
        lsn: intOrUndefined(lsn) ?? 0,
        reason: String(reason),
        timestamp: typeof ts === 'string' ? ts : undefined,
        newLeader: typeof leader === 'string' ? leader : undefined,
      },
    ];
  });
}

/** Builds the view. Members are Pods whose `status` carries a `conn_url`, sorted by name. */
export function clusterView(objects: ClusterObjects): ClusterView {
  const warnings: string[] = [];
  const leaderAnn = objects.leader?.metadata.annotations ?? {};
  const leader = leaderAnn.leader || undefined;
  const optime = intOrUndefined(leaderAnn.optime);
  const cfgAnn = objects.config?.metadata.annotations ?? {};
  const configValue = parseJson(cfgAnn.config, 'the config annotation', warnings);
  if (configValue !== undefined && !isRecord(configValue)) warnings.push('the config annotation is not a JSON object');
  const config = isRecord(configValue) ? configValue : undefined;
  const syncNames = new Set(
    (objects.sync?.metadata.annotations?.sync_standby ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const syncLeader = objects.sync?.metadata.annotations?.leader;
  const members: MemberView[] = [];
  for (const pod of objects.pods) {
    const status = parseJson(pod.metadata.annotations?.status, `status of ${pod.metadata.name}`, warnings);
    if (!isRecord(status) || typeof status.conn_url !== 'string') continue;
    const name = pod.metadata.name;
    const isLeader = name === leader;
    const standbyCluster = isRecord(config) && isRecord(config.standby_cluster);
    const role: MemberRole = isLeader
      ? standbyCluster
        ? 'Standby Leader'
        : 'Leader'
      : syncNames.has(name) && syncLeader === leader
        ? 'Sync Standby'
        : 'Replica';
    const xlog = intOrUndefined(status.xlog_location);
    const { host, port } = hostPort(status.conn_url);
    members.push({
      name,
      host,
      port,
      role,
      state: typeof status.state === 'string' ? status.state : 'unknown',
      timeline: intOrUndefined(status.timeline),
      lagBytes: !isLeader && optime !== undefined && xlog !== undefined ? Math.max(0, optime - xlog) : undefined,
      apiUrl: typeof status.api_url === 'string' ? status.api_url : undefined,
      pendingRestart: status.pending_restart === true,
      ...(isRecord(status.scheduled_restart) && typeof status.scheduled_restart.schedule === 'string'
        ? { scheduledRestart: status.scheduled_restart.schedule }
        : {}),
      tags: isRecord(status.tags) ? status.tags : {},
    });
  }
  members.sort((a, b) => a.name.localeCompare(b.name));
  const fo = objects.failover?.metadata.annotations ?? {};
  const scheduledSwitchover = fo.scheduled_at ? { at: fo.scheduled_at, from: fo.leader || undefined, to: fo.member || undefined } : undefined;
  return Object.freeze({
    scope: objects.scope,
    systemId: cfgAnn.initialize || undefined,
    leader,
    members,
    paused: config?.pause === true,
    config,
    configVersion: objects.config?.metadata.resourceVersion,
    history: parseHistory(cfgAnn.history, warnings),
    scheduledSwitchover,
    warnings,
  });
}
