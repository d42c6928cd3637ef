import type { LockView } from './model';

/**
 * Lease arithmetic. Two rules keep at most one node acting as leader:
 *
 * 1. Others take the lock only after `observedAt + ttl`, where `observedAt` is when *they* first saw its current
 *    value. They can only take it with a write conditional on the version they saw, so that version is the latest,
 *    and they saw it after it was written: after the holder *started* the request that wrote it.
 * 2. The holder acts as leader only until `renewStart + ttl - margin`, where `renewStart` is when it started the
 *    last lock write it knows succeeded (for a write retried after an unclear outcome, the first attempt's start)
 *    and `ttl` is the ttl that write carried, which is what the others time it by. A write whose outcome is not
 *    known yet may have landed with its own ttl: from its start the lease is capped at that write's deadline.
 *
 * So the holder stops at least `margin` before anyone else may take over. The margin covers what can delay the
 * holder's stop after its deadline (a late timer on a busy event loop, the local service taking time to stop) and
 * clock-rate differences between nodes, which are parts per million. Timestamps written into the lock are never
 * compared with a clock, so wall-clock skew does not matter.
 */
/** The smallest lease safety margin, for any ttl: timer lateness under load. */
export const MIN_LEASE_MARGIN_MS = 1_000;

export function leaseSafetyMarginMs(ttlMs: number): number {
  // A sixth of the ttl, at least MIN_LEASE_MARGIN_MS and at most 5 s (Patroni's watchdog margin).
  return Math.min(5_000, Math.max(MIN_LEASE_MARGIN_MS, Math.floor(ttlMs / 6)));
}

/** Local deadline for acting as leader after a lock write that started at `writeStartedAt`. */
export function leaseDeadlineAfterWrite(writeStartedAt: number, ttlMs: number): number {
  return writeStartedAt + ttlMs - leaseSafetyMarginMs(ttlMs);
}

/**
 * The lease once a lock write carrying `ttlMs` has started: it may land without us hearing so, and then the others
 * time the lock by `ttlMs` from when they see it. So the lease ends no later than that write's own deadline (a
 * lower ttl shortens it at once); only a write known to have landed sets it anew (`leaseDeadlineAfterWrite`).
 */
export function leaseCappedByWrite(current: number | null, writeStartedAt: number, ttlMs: number): number | null {
  return current === null ? null : Math.min(current, leaseDeadlineAfterWrite(writeStartedAt, ttlMs));
}

/** When the lock, as this node saw it, stops being valid. */
export function lockExpiresAt(lock: LockView): number {
  return lock.observedAt + lock.ttlMs;
}

/** True when nobody holds the lock, or its holder's ttl has run out since this node saw it change. */
export function lockIsFree(lock: LockView, now: number): boolean {
  return lock.holder === null || now >= lockExpiresAt(lock);
}
