/**
 * Synchronous replication, kept consistent between PostgreSQL (`synchronous_standby_names`, "SSN") and the
 * `<scope>-sync` object that decides who may be promoted. Pure; one step per call, applied by the leader.
 *
 * The invariant: every member the object lists is, in PostgreSQL, a synchronous standby that holds every commit
 * ever acknowledged. So promoting only listed members never loses an acknowledged commit. It holds because:
 * - a member leaves the object before it leaves SSN (shrink: object first);
 * - a member joins the object only after PostgreSQL reports it `sync` under the current SSN and it has flushed
 *   at least up to where the primary was when SSN last changed (commits acknowledged before, while it was not yet
 *   waited for, are on it too) (grow: object last);
 * - SSN lists exactly the chosen members and waits for all of them (`N (a,b)` with N = their number).
 */

export interface StandbyConnection {
  readonly name: string;
  /** pg_stat_replication.state */
  readonly state: string;
  /** pg_stat_replication.sync_state */
  readonly syncState: string;
  readonly flushLsn?: bigint;
}

export interface SyncInput {
  readonly me: string;
  readonly enabled: boolean;
  readonly strict: boolean;
  readonly count: number;
  /** What the object lists now, and who wrote it. */
  readonly object: { readonly leader?: string; readonly standbys: readonly string[] };
  /** synchronous_standby_names as PostgreSQL runs with it. */
  readonly ssn: string;
  readonly connections: readonly StandbyConnection[];
  /** Members tagged nosync. */
  readonly nosync: readonly string[];
  /** The primary's flush position when SSN last changed; undefined when unknown (then nobody joins yet). */
  readonly ssnChangedAt?: bigint;
}

export type SyncStep =
  { readonly kind: 'none' } | { readonly kind: 'write-object'; readonly standbys: readonly string[] } | { readonly kind: 'set-ssn'; readonly value: string };

/** `N ("a","b")`, Patroni's form; '' for none. */
export function ssnFor(names: readonly string[], strict: boolean): string {
  if (names.length === 0) return strict ? '*' : '';
  return `${names.length} (${names.map((n) => `"${n.replace(/"/g, '""')}"`).join(',')})`;
}

/** The members SSN names (either form); [] for '' and for the strict placeholder. */
export function ssnMembers(ssn: string): string[] {
  const m = /^\s*(?:FIRST\s+|ANY\s+)?\d+\s*\((.*)\)\s*$/i.exec(ssn);
  const list = m ? m[1]! : ssn;
  return list
    .split(',')
    .map((s) =>
      s
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .replace(/""/g, '"'),
    )
    .filter((s) => s !== '' && s !== '*');
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

export function planSync(i: SyncInput): SyncStep {
  const listed = i.object.standbys;
  if (!i.enabled) {
    if (listed.length > 0 || (i.object.leader !== undefined && i.object.leader !== i.me)) return { kind: 'write-object', standbys: [] };
    return i.ssn === '' ? { kind: 'none' } : { kind: 'set-ssn', value: '' };
  }
  const streaming = i.connections.filter((c) => c.state === 'streaming' && c.name !== i.me && !i.nosync.includes(c.name));
  const current = ssnMembers(i.ssn);
  const rank = (c: StandbyConnection) => (listed.includes(c.name) ? 0 : current.includes(c.name) ? 1 : 2);
  const desired = [...streaming]
    .sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name))
    .slice(0, Math.max(1, i.count))
    .map((c) => c.name)
    .sort();
  // Shrink: the object first. A new leader starts from nobody: members listed by the previous leader were waited
  // for by that primary, not by this one.
  const keep = i.object.leader === i.me ? listed.filter((n) => desired.includes(n)).sort() : [];
  if (!sameSet(keep, listed) || i.object.leader !== i.me) return { kind: 'write-object', standbys: keep };
  // Then PostgreSQL.
  const want = ssnFor(desired, i.strict);
  if (i.ssn !== want) return { kind: 'set-ssn', value: want };
  // Grow: the object last, with members PostgreSQL confirms and that hold everything acknowledged before.
  const confirmed = streaming
    .filter(
      (c) => desired.includes(c.name) && c.syncState === 'sync' && i.ssnChangedAt !== undefined && c.flushLsn !== undefined && c.flushLsn >= i.ssnChangedAt,
    )
    .map((c) => c.name);
  const grown = [...new Set([...listed, ...confirmed])].sort();
  return sameSet(grown, listed) ? { kind: 'none' } : { kind: 'write-object', standbys: grown };
}
