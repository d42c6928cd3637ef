import { leaseDeadlineAfterWrite } from './lease';
import type { LockView, SelfView } from './model';

/**
 * Failsafe mode (Patroni's `failsafe_mode`): a leader that cannot reach the API keeps leading while every member of
 * its failsafe topology answers it. Here each answer is a promise, which keeps the lease argument of `lease.ts`:
 *
 * 1. A member that accepts `POST /failsafe` at `t` promises not to take the lock before `t + ttl`, `ttl` being the
 *    one the leader asks for. It accepts only while it neither leads, runs as a primary, nor has a lock write of its
 *    own in flight, and only from the holder its own view of the lock names.
 * 2. While the lock names a holder and carries a `failsafe` annotation, a member not named there never takes the
 *    lock: the leader did not ask it for a promise.
 * 3. The leader that started a round at `s` and got a promise from every other member of the topology acts as
 *    leader until `s + ttl - margin`, which is before any promise made in that round ends.
 *
 * So nobody takes the lock while the failsafe leader may still act on it, though its lock has expired. A member that
 * does not answer (down, partitioned, an older agent) ends the extension: the leader steps down at its deadline.
 */

/** Patroni's timeout for one `POST /failsafe`. */
export const FAILSAFE_REQUEST_TIMEOUT_MS = 2000;

/** True while `self` is bound by a promise to a failsafe leader. */
export function promiseBinds(self: Pick<SelfView, 'failsafePromiseUntil'>, now: number): boolean {
  return self.failsafePromiseUntil != null && now < self.failsafePromiseUntil;
}

/** True when the lock's failsafe topology leaves `name` out while the lock names a holder (rule 2). */
export function outsideFailsafeTopology(lock: LockView, name: string): boolean {
  const topology = lock.failsafe ?? null;
  return lock.holder !== null && lock.holder !== name && topology !== null && !Object.hasOwn(topology, name);
}

/**
 * The members a leader asks in a failsafe round: everyone in the topology its view of the lock carries and in the
 * ones its unconfirmed writes may have stored (rule 3 needs a promise from each member that may read the lock as
 * naming it), without itself; `null` when neither names it. Asking only the view's topology would let a member that
 * a landed-but-unanswered write added take the lock unasked, while the leader counts an empty round as unanimous.
 */
export function failsafePeers(lock: LockView, self: Pick<SelfView, 'name' | 'failsafeWritten'>): Readonly<Record<string, string>> | null {
  const topology = { ...self.failsafeWritten, ...lock.failsafe };
  if (!Object.hasOwn(topology, self.name)) return null;
  return Object.fromEntries(Object.entries(topology).filter(([name]) => name !== self.name));
}

/** One member's answer in a round: the promise it made in ms, or `null` when it refused or did not answer. */
export interface FailsafeAnswer {
  readonly name: string;
  readonly promisedMs: number | null;
}

/**
 * The lease deadline a failsafe round that started at `startedAt` and asked for `ttlMs` earns (rule 3), or `null`
 * when a member refused, did not answer, or promised less than asked.
 */
export function failsafeRoundDeadline(asked: readonly string[], answers: readonly FailsafeAnswer[], startedAt: number, ttlMs: number): number | null {
  const promised = new Map(answers.map((a) => [a.name, a.promisedMs]));
  const everyone = asked.every((name) => {
    const ms = promised.get(name);
    return ms != null && ms >= ttlMs;
  });
  return everyone ? leaseDeadlineAfterWrite(startedAt, ttlMs) : null;
}

/** What a member knows when a failsafe leader asks it for a promise. */
export interface FailsafeRequestFacts {
  readonly now: number;
  /** `failsafe_mode` as this member sees the dynamic configuration. */
  readonly enabled: boolean;
  /** The member that asks (the request's `name`). */
  readonly from: string;
  /** How long it asks us not to take the lock. */
  readonly durationMs: number;
  readonly leading: boolean;
  /** Our PostgreSQL runs as a primary (not in recovery). */
  readonly runsAsPrimary: boolean;
  /** A lock write of ours (an acquire) is in flight. */
  readonly acquiring: boolean;
  readonly storeReady: boolean;
  /** The holder our view of the lock names. */
  readonly holder: string | null;
  readonly promisedUntil: number | null;
}

export type FailsafeVerdict =
  /** `until`: monotonic end of the promise; `promisedMs`: how long it runs from the moment it was made. */
  | { readonly granted: true; readonly until: number; readonly promisedMs: number }
  | { readonly granted: false; readonly status: number; readonly reason: string };

/** Whether to promise (rule 1). Refusing is always safe: it only makes the asking leader step down. */
export function failsafeVerdict(f: FailsafeRequestFacts): FailsafeVerdict {
  if (!f.enabled) return { granted: false, status: 502, reason: 'failsafe_mode is not enabled' };
  if (f.leading || f.runsAsPrimary) return { granted: false, status: 500, reason: 'Running as a leader' };
  if (f.acquiring) return { granted: false, status: 503, reason: 'racing for the leader lock' };
  if (f.storeReady && f.holder !== f.from) return { granted: false, status: 409, reason: `the leader lock names ${f.holder ?? 'no one'}, not ${f.from}` };
  const until = Math.max(f.promisedUntil ?? 0, f.now + f.durationMs);
  // Not `until - now`: with fractional clock readings `(now + d) - now` can come out a hair below d, and the
  // leader, which needs d, would count the promise as short.
  const earlier = f.promisedUntil ?? 0;
  return { granted: true, until, promisedMs: earlier > f.now + f.durationMs ? earlier - f.now : f.durationMs };
}
