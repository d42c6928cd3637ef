import type { KubeObject } from '../kube/object-cache';
import { type DynamicConfig, EMPTY_DYNAMIC_CONFIG, parseDynamicConfig } from './dynamic-config';

/** A member as its Pod shows it: the `status` annotation (Patroni's fields) read leniently. */
export interface MemberRecord {
  readonly name: string;
  readonly status: Readonly<Record<string, unknown>>;
  readonly connUrl?: string;
  readonly apiUrl?: string;
  readonly podIp?: string;
  /** The Pod's `controller-revision-hash` label (which StatefulSet revision it runs), when it has one. */
  readonly revision?: string;
  /** The Pod is being deleted (a rollout, a drain, `kubectl delete pod`). */
  readonly terminating?: boolean;
}

/** The `<scope>-failover` object's request, when it holds one. */
export interface FailoverRequest {
  readonly leader?: string;
  readonly member?: string;
  readonly scheduledAt?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function memberRecords(pods: readonly KubeObject[]): MemberRecord[] {
  const out: MemberRecord[] = [];
  for (const pod of pods) {
    let status: Record<string, unknown> = {};
    try {
      const v: unknown = JSON.parse(pod.metadata.annotations?.status ?? '{}');
      if (isObject(v)) status = v;
    } catch {
      // Unreadable status: the member shows with no facts (the store reports it).
    }
    const str = (k: string) => (typeof status[k] === 'string' ? status[k] : undefined);
    const podIp = (pod as { status?: { podIP?: string } }).status?.podIP;
    const revision = pod.metadata.labels?.['controller-revision-hash'];
    const terminating = Boolean((pod.metadata as { deletionTimestamp?: string }).deletionTimestamp);
    out.push({ name: pod.metadata.name, status, connUrl: str('conn_url'), apiUrl: str('api_url'), podIp, ...(revision ? { revision } : {}), terminating });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Revisions a rolling update is replacing: those of member Pods being deleted while others run another revision. */
export function outdatedRevisions(members: readonly MemberRecord[]): string[] {
  const revisions = new Set(members.map((m) => m.revision).filter((r): r is string => r !== undefined));
  if (revisions.size < 2) return [];
  return [...new Set(members.filter((m) => m.terminating && m.revision !== undefined).map((m) => m.revision!))];
}

/** `host:port` from a `postgres://host:port/db` URL; undefined when it cannot be read. */
export function hostPortOf(connUrl: string | undefined): string | undefined {
  if (!connUrl) return undefined;
  try {
    const u = new URL(connUrl);
    if (!u.hostname) return undefined;
    return `${u.hostname.replace(/^\[|\]$/g, '')}:${u.port || '5432'}`;
  } catch {
    return undefined;
  }
}

/**
 * Where to stream from: the holder's Postgres once its Pod shows it running as a primary (promoted and past its
 * post-promote checkpoint). Before that a rewind against it would be unreliable.
 */
export function leaderUpstream(members: readonly MemberRecord[], holder: string | null): string | undefined {
  if (holder === null) return undefined;
  const m = members.find((x) => x.name === holder);
  if (!m || m.status.state !== 'running' || (m.status.role !== 'primary' && m.status.role !== 'master')) return undefined;
  if (m.status.checkpoint_after_promote === false) return undefined;
  return hostPortOf(m.connUrl);
}

/** The leader's last published position (`optime` on the lock object). */
export function leaderOptime(lockObject: KubeObject | undefined): bigint | undefined {
  const v = lockObject?.metadata.annotations?.optime;
  return v && /^\d+$/.test(v) ? BigInt(v) : undefined;
}

export function failoverRequest(obj: KubeObject | undefined): FailoverRequest | undefined {
  const a = obj?.metadata.annotations ?? {};
  const req = { leader: a.leader || undefined, member: a.member || undefined, scheduledAt: a.scheduled_at || undefined };
  return req.leader || req.member ? req : undefined;
}

/**
 * The request still to be carried out, judged by the lock's last holder: a request whose candidate holds (or last
 * held) the lock was carried out, and so was one without a candidate once someone other than the leader it moves
 * away from holds it; a leader that died before clearing it would otherwise keep everyone else out of the race.
 */
export function openRequest(req: FailoverRequest | undefined, holder: string | null): FailoverRequest | undefined {
  if (!req || holder === null) return req;
  if (req.member !== undefined) return req.member === holder ? undefined : req;
  return req.leader !== undefined && req.leader !== holder ? undefined : req;
}

/** Members named in `<scope>-sync` `sync_standby` (comma-separated), and the leader it was written by. */
export function syncState(obj: KubeObject | undefined): { leader?: string; standbys: string[] } {
  const a = obj?.metadata.annotations ?? {};
  const standbys = (a.sync_standby ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { leader: a.leader || undefined, standbys };
}

/**
 * Who may be promoted in synchronous mode: the listed standbys and the leader that wrote the object (it had every
 * commit). Undefined (no restriction) while no leader has set synchronous replication up yet, e.g. at bootstrap.
 */
export function promotable(obj: KubeObject | undefined): string[] | undefined {
  const s = syncState(obj);
  return s.leader ? [s.leader, ...s.standbys] : undefined;
}

/** `history` on `<scope>-config`: `[[tl, lsn, reason, ts, leader], ...]`; `[]` when absent or unreadable. */
export function historyOf(obj: KubeObject | undefined): unknown[] {
  try {
    const v: unknown = JSON.parse(obj?.metadata.annotations?.history ?? '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

/** The dynamic configuration with the last good value kept across a corrupt edit. */
export class DynamicConfigReader {
  private last: DynamicConfig = EMPTY_DYNAMIC_CONFIG;
  private lastText: string | undefined;
  private lastError: string | undefined;

  constructor(private readonly onError: (error: string) => void) {}

  read(obj: KubeObject | undefined): DynamicConfig {
    const text = obj?.metadata.annotations?.config;
    if (text === this.lastText) return this.last;
    this.lastText = text;
    const parsed = parseDynamicConfig(text);
    if (parsed.ok) {
      this.last = parsed.config;
      this.lastError = undefined;
    } else if (parsed.error !== this.lastError) {
      this.lastError = parsed.error;
      this.onError(parsed.error);
    }
    return this.last;
  }

  /** The raw config object for `GET /config`; null when the cluster has none. */
  raw(obj: KubeObject | undefined): Record<string, unknown> | null {
    const text = obj?.metadata.annotations?.config;
    if (text === undefined) return null;
    try {
      const v: unknown = JSON.parse(text);
      return isObject(v) ? v : null;
    } catch {
      return null;
    }
  }
}

/**
 * The timeline the cluster is on: one past the newest timeline in `history` (each entry records a timeline that
 * ended with a promotion). `undefined` when there is no history yet (no promotion since bootstrap).
 */
export function clusterTimeline(configObject: KubeObject | undefined): number | undefined {
  const ended = historyOf(configObject)
    .map((entry): unknown => (Array.isArray(entry) ? entry[0] : undefined))
    .filter((tl): tl is number => typeof tl === 'number' && Number.isInteger(tl) && tl > 0);
  return ended.length ? Math.max(...ended) + 1 : undefined;
}
