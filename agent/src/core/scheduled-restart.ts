/**
 * Restarts on request (`POST /restart`), now or at a scheduled time, as Patroni decides them. Pure: the caller passes
 * the wall time and the local facts; no clock, no I/O.
 *
 * A scheduled restart lives in the member's memory only (as in Patroni): it is published in the Pod status and in
 * `GET /patroni`, and an agent restart forgets it.
 */

/** The conditions a restart request may carry (Patroni's `restart_pending`, `role`, `postgres_version`). */
export interface RestartConditions {
  /** Only if PostgreSQL reports a setting that needs a restart. */
  readonly restartPending?: boolean;
  /** Only if the member runs in this role. */
  readonly role?: 'primary' | 'replica';
  /** Only if the running server is older than this version (`15.4`, `9.6.3`). */
  readonly postgresVersion?: string;
}

export interface ScheduledRestart extends RestartConditions {
  /** When to restart: wall time in ms since the epoch. */
  readonly atMs: number;
  /** Seconds the stop may take. @default - the member's shutdown_timeout */
  readonly timeoutSeconds?: number;
  /**
   * `pg_postmaster_start_time()` when the restart was scheduled: a server started at another time restarted
   * meanwhile, and the scheduled restart has nothing left to do. @default - no such check (Postgres was down)
   */
  readonly postmasterStartTime?: string;
}

/** The local PostgreSQL as a restart decision sees it. */
export interface RestartFacts {
  readonly running: boolean;
  readonly role: 'primary' | 'replica' | 'demoted' | 'uninitialized';
  /** `server_version_num` (160004). */
  readonly serverVersionNum?: number;
  readonly pendingRestart: boolean;
  readonly postmasterStartTime?: string;
}

/**
 * Patroni's integer form of a version (`postgres_version_to_int`): `X.Y.Z` → XXYYZZ, `X.Y` from 10 on → XX00YY.
 * Undefined for anything else (`10`, `9.6`, `a.b`).
 */
export function postgresVersionNum(version: string): number | undefined {
  if (!/^\d+(\.\d+)*$/.test(version)) return undefined;
  const parts = version.split('.').map(Number);
  if (parts.length < 2 || parts.length > 3 || (parts.length === 2 && parts[0]! < 10)) return undefined;
  if (parts.length === 2) parts.splice(1, 0, 0);
  return parts.reduce((n, p) => n * 100 + p, 0);
}

/** Why the conditions are not met (Patroni's reasons), or undefined when the restart may go ahead. */
export function unmetCondition(c: RestartConditions, f: RestartFacts): string | undefined {
  if (c.role && c.role !== f.role) return `host role mismatch: the member runs as ${f.role}, the restart is for ${c.role}`;
  if (c.postgresVersion !== undefined) {
    const wanted = postgresVersionNum(c.postgresVersion);
    if (wanted === undefined || f.serverVersionNum === undefined || wanted <= f.serverVersionNum)
      return `postgres version mismatch: the server runs ${f.serverVersionNum ?? 'no known version'}, the restart is for versions below ${c.postgresVersion}`;
  }
  if (c.restartPending && !f.pendingRestart) return 'pending restart flag is not set';
  return undefined;
}

/** A refused schedule: the status and message `POST /restart` answers (Patroni's codes and words, then the detail). */
export interface ScheduleRefusal {
  readonly status: number;
  readonly message: string;
}

export interface ScheduleRequest {
  readonly atMs: number;
  readonly nowMs: number;
  readonly paused: boolean;
  /** A restart is scheduled already. */
  readonly pending: boolean;
}

export function scheduleRefusal(r: ScheduleRequest): ScheduleRefusal | undefined {
  if (r.paused) return { status: 500, message: "Can't schedule restart in the paused state" };
  if (r.atMs < r.nowMs) {
    return {
      status: 422,
      message: `Cannot schedule restart in the past: schedule ${new Date(r.atMs).toISOString()} is before now (${new Date(r.nowMs).toISOString()})`,
    };
  }
  if (r.pending) return { status: 409, message: 'Another restart is already scheduled' };
  return undefined;
}

export type ScheduledRestartVerdict =
  /** Nothing scheduled. */
  | { readonly kind: 'none' }
  /** Not yet: look again in `inMs`. */
  | { readonly kind: 'wait'; readonly inMs: number }
  /** Kept, but not carried out now (paused, Postgres down or busy). */
  | { readonly kind: 'hold'; readonly why: string }
  /** Dropped without a restart. */
  | { readonly kind: 'cancel'; readonly why: string }
  /** Restart now; the schedule is dropped with it. */
  | { readonly kind: 'restart' };

export interface ScheduledRestartInput {
  readonly scheduled: ScheduledRestart | undefined;
  readonly nowMs: number;
  /** loop_wait in ms: a schedule missed by more than 1.5 times it is stale and dropped (as in Patroni). */
  readonly loopWaitMs: number;
  readonly paused: boolean;
  readonly facts: RestartFacts;
}

export function scheduledRestartVerdict(i: ScheduledRestartInput): ScheduledRestartVerdict {
  const s = i.scheduled;
  if (!s) return { kind: 'none' };
  const started = i.facts.postmasterStartTime;
  if (s.postmasterStartTime !== undefined && started !== undefined && started !== s.postmasterStartTime)
    return { kind: 'cancel', why: `postgres restarted meanwhile (started at ${started})` };
  if (i.paused) return { kind: 'hold', why: 'paused' };
  if (i.nowMs < s.atMs) return { kind: 'wait', inMs: s.atMs - i.nowMs };
  const lateMs = i.nowMs - s.atMs;
  if (lateMs > 1.5 * i.loopWaitMs) return { kind: 'cancel', why: `stale: the scheduled time passed ${Math.round(lateMs / 1000)}s ago` };
  if (!i.facts.running) return { kind: 'hold', why: 'postgres is not running' };
  const unmet = unmetCondition(s, i.facts);
  if (unmet) return { kind: 'cancel', why: `restart conditions are not satisfied: ${unmet}` };
  return { kind: 'restart' };
}

/** Patroni's ISO form of the schedule, in UTC with an explicit offset (`2030-01-01T10:00:00+00:00`). */
export function isoSchedule(atMs: number): string {
  return new Date(atMs).toISOString().replace(/\.000Z$|Z$/, '+00:00');
}

/**
 * The `scheduled_restart` object Patroni publishes: in the Pod status with `postmaster_start_time`, in
 * `GET /patroni` without it.
 */
export function scheduledRestartJson(s: ScheduledRestart, withStartTime: boolean): Record<string, unknown> {
  return {
    schedule: isoSchedule(s.atMs),
    ...(s.restartPending !== undefined ? { restart_pending: s.restartPending } : {}),
    ...(s.role ? { role: s.role } : {}),
    ...(s.postgresVersion !== undefined ? { postgres_version: s.postgresVersion } : {}),
    ...(s.timeoutSeconds !== undefined ? { timeout: s.timeoutSeconds } : {}),
    ...(withStartTime ? { postmaster_start_time: s.postmasterStartTime ?? null } : {}),
  };
}
