/**
 * What to do with the local PostgreSQL so it matches the lock: one step per loop run, decided from a frozen
 * snapshot. Pure: no clock, no I/O. The service (`ha/postgres-service.ts`) applies the step in the background and
 * runs the loop again when it is done, so a long step (a clone) never delays a lock renew.
 *
 * Safety rules the property tests check (`postgres-plan.property.test.ts`):
 * - promote only while leading (holding the lock within the local lease);
 * - a primary that is not leading is stopped (unless paused), and nothing else runs first;
 * - nothing touches a data directory of another cluster or a foreign one;
 * - in pause nothing is started or stopped (a leader that took the lock by a manual switchover still promotes).
 */

/** The local Postgres as the plan sees it. */
export interface LocalPgFacts {
  readonly dataDir: 'missing' | 'empty' | 'initialized' | 'foreign';
  /** From the control file (stopped) or the server (running). */
  readonly systemIdentifier?: string;
  readonly running: boolean;
  /** Running and answering queries. */
  readonly accepting: boolean;
  readonly inRecovery?: boolean;
  /** `host:port` the standby is configured to stream from, as last set by the agent. */
  readonly upstream?: string;
  /**
   * Its history may have diverged from the leader's: it ran as a primary since it last followed a leader. It must
   * be rewound (or re-cloned) before it can follow another leader.
   */
  readonly formerPrimary: boolean;
}

export interface PlanInput {
  readonly name: string;
  readonly pg: LocalPgFacts;
  readonly leading: boolean;
  readonly holder: string | null;
  /** `host:port` of the lock holder's Postgres, from its Pod status; undefined when unknown. */
  readonly leaderUpstream?: string;
  /** The `initialize` annotation: undefined when absent, `''` while someone bootstraps, else the system identifier. */
  readonly initialize: string | undefined;
  readonly paused: boolean;
  readonly shuttingDown: boolean;
  readonly usePgRewind: boolean;
  /** A rewind against the current leader failed. */
  readonly rewindFailed: boolean;
  /** `remove_data_directory_on_rewind_failure`: a failed rewind removes the data and clones again. */
  readonly removeDataOnRewindFailure: boolean;
  /** `remove_data_directory_on_diverged_timelines`: with use_pg_rewind off, a diverged member is cloned again. */
  readonly removeDataOnDivergedTimelines: boolean;
  /**
   * This member handed the lock over in a switchover moments ago (within ttl) and no one holds it yet: the candidate
   * is about to. @default false
   */
  readonly awaitingSuccessor?: boolean;
  /**
   * This member bootstrapped the cluster and has not taken the lock yet (its first acquire may be slow or fail once):
   * its new primary is the cluster's only data. @default false
   */
  readonly bootstrapped?: boolean;
}

export type PgStep =
  | { readonly kind: 'none'; readonly why: string }
  /** The data directory must not be touched; the agent reports and waits. */
  | { readonly kind: 'refuse'; readonly why: string }
  /** Race for `initialize`; the winner runs initdb and records the system identifier. */
  | { readonly kind: 'initialize' }
  | { readonly kind: 'clone'; readonly upstream: string }
  /** Start: as the leader (files unchanged), or as a standby of `upstream` (undefined: no leader known yet). */
  | { readonly kind: 'start'; readonly asLeader: boolean; readonly upstream?: string }
  | { readonly kind: 'promote' }
  /** Stop now. `immediate` for a primary without the lock: it must stop accepting writes at once. */
  | { readonly kind: 'stop'; readonly mode: 'fast' | 'immediate'; readonly why: string }
  | { readonly kind: 'follow'; readonly upstream: string }
  | { readonly kind: 'rewind'; readonly upstream: string }
  /** Empty the data directory so the next step clones it again. */
  | { readonly kind: 'remove-data'; readonly why: string };

export type PgStepKind = PgStep['kind'];

const none = (why: string): PgStep => ({ kind: 'none', why });

export function planPostgres(i: PlanInput): PgStep {
  const { pg } = i;
  if (i.shuttingDown) return none('shutting down');
  if (pg.dataDir === 'foreign') return { kind: 'refuse', why: 'data directory holds something other than PostgreSQL' };
  if (i.initialize && pg.systemIdentifier && pg.systemIdentifier !== i.initialize) {
    return { kind: 'refuse', why: 'data directory belongs to another cluster (system identifier mismatch)' };
  }
  const other = i.holder !== null && i.holder !== i.name;
  const leaderUp = other ? i.leaderUpstream : undefined;

  if (pg.dataDir === 'missing' || pg.dataDir === 'empty') {
    if (i.initialize === undefined && i.holder === null) return { kind: 'initialize' };
    if (i.initialize && leaderUp) return { kind: 'clone', upstream: leaderUp };
    return none('waiting for a leader to clone from');
  }

  if (!pg.running) {
    if (i.paused) return none('paused: postgres is not started');
    if (i.leading) return { kind: 'start', asLeader: true };
    // Started now, it would run as a standby of no one and have to stop again for the rewind once the candidate leads.
    if (pg.formerPrimary && i.awaitingSuccessor && i.holder === null) return none('former primary waiting for the switchover candidate to take the lock');
    if (pg.formerPrimary && other) {
      if (!leaderUp) return none('former primary waiting for the new leader to run as a primary');
      if (i.usePgRewind && !i.rewindFailed) return { kind: 'rewind', upstream: leaderUp };
      // The data directory is removed only when the member's configuration says so (Patroni's defaults keep it);
      // otherwise it waits for `reinit`, which a person asks for knowing what it costs.
      if (i.usePgRewind)
        return i.removeDataOnRewindFailure
          ? { kind: 'remove-data', why: 'rewind failed' }
          : none('rewind failed; waiting for reinit (remove_data_directory_on_rewind_failure is off)');
      return i.removeDataOnDivergedTimelines
        ? { kind: 'remove-data', why: 'diverged and use_pg_rewind is off' }
        : none('diverged from the leader and use_pg_rewind is off; waiting for reinit');
    }
    return { kind: 'start', asLeader: false, upstream: leaderUp };
  }
  if (!pg.accepting) return none('postgres is starting');

  if (pg.inRecovery === false) {
    // Stopped now, it would come back as a standby of no one and be promoted once it takes the lock: a needless
    // restart and promotion of the only copy. Nobody else can lead before it (their data directories are empty).
    if (!i.leading && i.bootstrapped && i.holder === null) return none('bootstrapped primary waiting to take the lock');
    if (!i.leading)
      return i.paused ? none('paused: primary without the lock left running') : { kind: 'stop', mode: 'immediate', why: 'primary without the lock' };
    return none('primary holding the lock');
  }
  // A standby. A leader promotes it even in pause: it took the lock by a manual switchover.
  if (i.leading) return { kind: 'promote' };
  if (leaderUp && pg.formerPrimary)
    return i.paused ? none('paused: former primary not rewound') : { kind: 'stop', mode: 'fast', why: 'former primary must be rewound before following' };
  if (leaderUp && pg.upstream !== leaderUp) return { kind: 'follow', upstream: leaderUp };
  return none(leaderUp ? 'streaming from the leader' : 'standby without a leader');
}
