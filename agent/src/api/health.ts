/**
 * Patroni's health-check endpoints as one pure function: from what this member knows about itself to an HTTP
 * status. Load balancers and Kubernetes probes rely on these codes, so they follow Patroni's rules exactly:
 * 200 means "route traffic here / I am fine", 503 means "not here".
 */

export type MemberRole = 'primary' | 'replica' | 'standby_leader' | 'demoted' | 'uninitialized';

export interface HealthFacts {
  readonly role: MemberRole;
  /** Patroni's state string: `running`, `starting`, `stopped`, `crashed`, `creating replica`, ... */
  readonly state: string;
  /** This member holds the leader lock and acts as leader. */
  readonly holdsLock: boolean;
  readonly standbyCluster: boolean;
  readonly paused: boolean;
  readonly noloadbalance: boolean;
  readonly tags: Readonly<Record<string, unknown>>;
  readonly replicationState?: string;
  /** Bytes behind the leader's last published position; undefined when unknown (no leader position). */
  readonly lagBytes?: number;
  /** Listed as a synchronous standby in the `<scope>-sync` object. */
  readonly syncStandby: boolean;
  /** Milliseconds since the HA loop last completed a run. */
  readonly msSinceLastLoop: number;
  readonly ttlMs: number;
  readonly maximumLagOnFailover: number;
}

export type Query = Readonly<Record<string, string | undefined>>;

const UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/** Parses a lag limit: bytes, or a number with a PostgreSQL memory unit (`16MB`, `1kB`). `undefined` if invalid. */
export function parseLag(value: string): number | undefined {
  const m = /^\s*(\d+)\s*([kKmMgGtT]?[bB])?\s*$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!;
}

/** `?tag_key=value` filters: every one must match the member's tags (compared as strings). */
function tagsMatch(facts: HealthFacts, query: Query): boolean {
  for (const [k, v] of Object.entries(query)) {
    if (!k.startsWith('tag_')) continue;
    const actual = facts.tags[k.slice(4)];
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a tag is any YAML value; Patroni compares str(value) too
    if (actual === undefined || String(actual).toLowerCase() !== String(v).toLowerCase()) return false;
  }
  return true;
}

/**
 * An explicit `?lag=` needs a known lag within it (an unparsable value fails the check). The implicit limit of
 * `/readiness` (maximum_lag_on_failover) only applies when the lag is known: a replica must not turn unready just
 * because no leader position has been published yet.
 */
function lagWithin(facts: HealthFacts, query: Query, fallback?: number): boolean {
  const raw = query.lag;
  if (raw !== undefined) {
    const limit = parseLag(raw);
    return limit !== undefined && facts.lagBytes !== undefined && facts.lagBytes <= limit;
  }
  return fallback === undefined || facts.lagBytes === undefined || facts.lagBytes <= fallback;
}

function isRunningReplica(facts: HealthFacts, query: Query): boolean {
  if (facts.state !== 'running' || facts.role !== 'replica' || facts.noloadbalance) return false;
  if (query.replication_state !== undefined && facts.replicationState !== query.replication_state) return false;
  return lagWithin(facts, query) && tagsMatch(facts, query);
}

const isPrimary = (f: HealthFacts) => f.holdsLock && f.role === 'primary' && !f.standbyCluster && f.state === 'running';

/** The health-check paths this module answers, without the leading slash. */
export const HEALTH_PATHS: readonly string[] = [
  '',
  'primary',
  'master',
  'read-write',
  'leader',
  'standby-leader',
  'standby_leader',
  'replica',
  'read-only',
  'sync',
  'synchronous',
  'read-only-sync',
  'async',
  'asynchronous',
  'health',
  'liveness',
  'readiness',
];

/** HTTP status for a health-check path, or `undefined` when `path` is not one. */
export function healthStatus(path: string, query: Query, facts: HealthFacts): number | undefined {
  const ok = (b: boolean) => (b ? 200 : 503);
  switch (path) {
    case '':
    case 'primary':
    case 'master':
    case 'read-write':
      return ok(isPrimary(facts) && tagsMatch(facts, query));
    case 'leader':
      return ok(facts.holdsLock && facts.state === 'running' && tagsMatch(facts, query));
    case 'standby-leader':
    case 'standby_leader':
      return ok(facts.holdsLock && facts.role === 'standby_leader' && facts.state === 'running' && tagsMatch(facts, query));
    case 'replica':
      return ok(isRunningReplica(facts, query));
    case 'read-only':
      return ok((isPrimary(facts) && tagsMatch(facts, query)) || isRunningReplica(facts, query));
    case 'sync':
    case 'synchronous':
      return ok(facts.syncStandby && isRunningReplica(facts, query));
    case 'read-only-sync':
      return ok((isPrimary(facts) && tagsMatch(facts, query)) || (facts.syncStandby && isRunningReplica(facts, query)));
    case 'async':
    case 'asynchronous':
      return ok(!facts.syncStandby && isRunningReplica(facts, query));
    case 'health':
      return ok(facts.state === 'running');
    case 'liveness': {
      // A primary must have run its loop within ttl (otherwise its lock may already be someone else's); a replica
      // gets twice that. Pause disables the check, as no automatic action is expected then.
      const limit = facts.holdsLock ? facts.ttlMs : 2 * facts.ttlMs;
      return ok(facts.paused || facts.msSinceLastLoop <= limit);
    }
    case 'readiness': {
      if (facts.holdsLock) return ok(facts.state === 'running');
      return ok(facts.state === 'running' && facts.role === 'replica' && lagWithin(facts, query, facts.maximumLagOnFailover));
    }
    default:
      return undefined;
  }
}
