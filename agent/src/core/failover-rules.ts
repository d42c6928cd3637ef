/**
 * Who may race for a free lock (Patroni's `is_healthiest_node`). Pure: the facts about the others come from their
 * `GET /patroni`, asked in parallel right before the race. A member is out when:
 * - a switchover or failover names another candidate, or moves the leader away from this member;
 * - synchronous mode is on and it is not a synchronous standby (so no acknowledged commit can be lost);
 * - it lags more than maximum_lag_on_failover behind the last leader position (`optime`);
 * - its timeline is older than the cluster's;
 * - another member still runs as a primary;
 * - an eligible member is further ahead (on a newer timeline, or further on the same one); or as far ahead and on the
 *   Pod revision a rolling update is moving to while this member's Pod is on the revision being replaced (so the
 *   primary moves once per rollout, not again when its new home is updated); or as far ahead, on an equally new
 *   revision, with a higher failover_priority. Positions on different timelines are not comparable byte for byte: a
 *   member on a newer timeline has seen a promotion this one has not.
 * Members that do not answer are left out of the comparison (they may be the failed leader).
 */

export interface SelfCandidate {
  readonly name: string;
  /** Its Pod's `controller-revision-hash`, when known. */
  readonly revision?: string;
  /** Received or replayed position, whichever is further; undefined when unknown. */
  readonly lsn?: bigint;
  readonly timeline?: number;
  readonly failoverPriority: number;
}

export interface OtherCandidate {
  readonly name: string;
  readonly reachable: boolean;
  /** Reports itself as a running primary (role primary/master or a primary `xlog.location`). */
  readonly isPrimary: boolean;
  readonly lsn?: bigint;
  /** Its timeline, when it reports one. */
  readonly timeline?: number;
  readonly nofailover: boolean;
  readonly failoverPriority: number;
  readonly revision?: string;
}

export interface RaceRules {
  /** The leader's last published position (`optime`), if any. */
  readonly leaderOptime?: bigint;
  readonly maximumLagOnFailover: number;
  /** The timeline the cluster is on (last history entry + 1), if known. */
  readonly clusterTimeline?: number;
  /** Synchronous mode: only these may be promoted. Undefined when synchronous mode is off. */
  readonly syncStandbys?: readonly string[];
  /** Named by a switchover/failover request. */
  readonly candidate?: string;
  /** The leader a switchover moves away from: it does not race while the request stands. */
  readonly switchingFrom?: string;
  /** Pod revisions being replaced (those of member Pods being deleted by a rollout); empty when none. */
  readonly outdatedRevisions?: readonly string[];
}

export type RaceVerdict = { readonly ok: true } | { readonly ok: false; readonly why: string };

const eligible = (o: OtherCandidate, rules: RaceRules) =>
  o.reachable && !o.nofailover && o.failoverPriority > 0 && (rules.syncStandbys === undefined || rules.syncStandbys.includes(o.name));

export function raceVerdict(me: SelfCandidate, others: readonly OtherCandidate[], rules: RaceRules): RaceVerdict {
  if (rules.candidate !== undefined && rules.candidate !== me.name) return { ok: false, why: 'a switchover names another candidate' };
  if (rules.switchingFrom === me.name) return { ok: false, why: 'a switchover moves the leader away from this member' };
  if (rules.syncStandbys !== undefined && !rules.syncStandbys.includes(me.name)) return { ok: false, why: 'not a synchronous standby' };
  if (rules.leaderOptime !== undefined) {
    if (me.lsn === undefined) return { ok: false, why: 'own position unknown' };
    if (rules.leaderOptime - me.lsn > BigInt(rules.maximumLagOnFailover)) return { ok: false, why: 'lags more than maximum_lag_on_failover' };
  }
  if (rules.clusterTimeline !== undefined && (me.timeline === undefined || me.timeline < rules.clusterTimeline))
    return { ok: false, why: 'on an older timeline than the cluster' };
  for (const o of others) {
    if (o.name === me.name || !o.reachable) continue;
    if (o.isPrimary) return { ok: false, why: 'another member still runs as a primary' };
    if (!eligible(o, rules) || o.lsn === undefined) continue;
    // A named candidate is the only one racing; position does not matter between the others.
    if (rules.candidate === me.name) continue;
    const ahead = compareProgress(o, me);
    if (ahead > 0) return { ok: false, why: 'another member is further ahead' };
    if (ahead < 0) continue;
    const outdated = (r: string | undefined) => r !== undefined && (rules.outdatedRevisions ?? []).includes(r);
    if (outdated(me.revision) && !outdated(o.revision)) return { ok: false, why: 'another member as far ahead already runs the updated Pod revision' };
    if (outdated(o.revision) && !outdated(me.revision)) continue;
    if (o.failoverPriority > me.failoverPriority) return { ok: false, why: 'another member is as far ahead with a higher failover_priority' };
  }
  return { ok: true };
}

/** Orders by timeline first (when both are known), then by position: > 0 when `a` is further ahead than `b`. */
export function compareProgress(a: { lsn?: bigint; timeline?: number }, b: { lsn?: bigint; timeline?: number }): number {
  if (a.timeline !== undefined && b.timeline !== undefined && a.timeline !== b.timeline) return a.timeline - b.timeline;
  const x = a.lsn ?? -1n;
  const y = b.lsn ?? -1n;
  return x > y ? 1 : x < y ? -1 : 0;
}
