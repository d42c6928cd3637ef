/**
 * Patroni's object layout on Kubernetes, so `patronictl` and Patroni members read what we write:
 * ConfigMaps `<scope>-leader`, `-config`, `-failover`, `-sync`; with `use_endpoints` the same as Endpoints, except
 * that the leader lock lives on Endpoints `<scope>` (which the primary Service uses). All state is in annotations.
 */
export interface StoreLayout {
  /** Collection the lock and config objects live in. */
  readonly resource: 'configmaps' | 'endpoints';
  readonly leader: string;
  readonly config: string;
  readonly failover: string;
  readonly sync: string;
}

export function storeLayout(scope: string, useEndpoints: boolean): StoreLayout {
  return {
    resource: useEndpoints ? 'endpoints' : 'configmaps',
    leader: useEndpoints ? scope : `${scope}-leader`,
    config: `${scope}-config`,
    failover: `${scope}-failover`,
    sync: `${scope}-sync`,
  };
}

/** The lock annotations, named as Patroni names them. */
export const LOCK_KEYS = ['leader', 'acquireTime', 'renewTime', 'ttl', 'transitions', 'optime'] as const;

/** The lock as read from annotations, with anything unreadable replaced and reported. */
export interface LockRecord {
  readonly holder: string | null;
  readonly acquireTime: string | null;
  readonly renewTime: string | null;
  /** Seconds; `null` when absent or not a positive integer. */
  readonly ttlSeconds: number | null;
  readonly transitions: number;
  /** The `failsafe` annotation (member name → REST API URL); `null` when absent or unreadable. */
  readonly failsafe: Readonly<Record<string, string>> | null;
  /** Annotations that could not be read, e.g. `ttl="abc"`; the caller logs them. */
  readonly problems: readonly string[];
}

const INT = /^\d+$/;

export function readLockRecord(annotations: Readonly<Record<string, string>> | undefined): LockRecord {
  const a = annotations ?? {};
  const problems: string[] = [];
  const holder = a.leader ? a.leader : null;
  let ttlSeconds: number | null = null;
  if (a.ttl !== undefined) {
    if (INT.test(a.ttl) && Number(a.ttl) > 0) ttlSeconds = Number(a.ttl);
    else problems.push(`ttl=${JSON.stringify(a.ttl)} is not a positive integer`);
  }
  let transitions = 0;
  if (a.transitions !== undefined) {
    if (INT.test(a.transitions)) transitions = Number(a.transitions);
    else problems.push(`transitions=${JSON.stringify(a.transitions)} is not a non-negative integer`);
  }
  if (a.optime !== undefined && !INT.test(a.optime)) problems.push(`optime=${JSON.stringify(a.optime)} is not a non-negative integer`);
  const failsafe = readFailsafe(a.failsafe, problems);
  return { holder, acquireTime: a.acquireTime ?? null, renewTime: a.renewTime ?? null, ttlSeconds, transitions, failsafe, problems };
}

/** The failsafe topology, as Patroni writes it: a JSON object of member name → REST API URL. */
export function readFailsafe(text: string | undefined, problems: string[]): Readonly<Record<string, string>> | null {
  if (text === undefined || text === '') return null;
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((u) => typeof u === 'string'))
      return Object.freeze({ ...(v as Record<string, string>) });
  } catch {
    // reported below
  }
  problems.push(`failsafe=${JSON.stringify(text)} is not a JSON object of member name to REST API URL`);
  return null;
}

/**
 * The part of the lock whose change restarts the ttl for observers (Patroni compares the same tuple). Raw
 * annotation strings, so a holder that rewrites a malformed value still counts as a change.
 */
export function lockTuple(annotations: Readonly<Record<string, string>> | undefined): string {
  const a = annotations ?? {};
  return JSON.stringify([a.leader ?? null, a.acquireTime ?? null, a.renewTime ?? null, a.ttl ?? null, a.transitions ?? null]);
}

/** ISO-8601 with a UTC offset, as Patroni writes it (`2024-01-01T00:00:00.123456+00:00`). */
export function lockTimestamp(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

/** The cluster's selector labels: `<scope_label>=<scope>` plus `kubernetes.labels`; written on every object. */
export function clusterLabels(scopeLabel: string, scope: string, labels: Readonly<Record<string, string>>): Record<string, string> {
  return { ...labels, [scopeLabel]: scope };
}

export function labelSelector(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
