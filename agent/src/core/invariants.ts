import { type Decision, LOCK_WRITES } from './actions';
import { outsideFailsafeTopology, promiseBinds } from './failsafe';
import { lockIsFree } from './lease';
import type { Observation } from './model';

/**
 * The safety rules, in one place. The loop checks every decision against them before applying it; the property
 * tests check that `decide` never breaks them. Each returns a message when broken.
 */
type Rule = (obs: Observation, decision: Decision) => string | null;

const isActing = (obs: Observation) => obs.self.leaseDeadline !== null && obs.now < obs.self.leaseDeadline;
const has = (d: Decision, type: string) => d.actions.some((a) => a.type === type);

export const RULES: Readonly<Record<string, Rule>> = {
  /** Take the lock only when it is free or still ours, the view is synced, and this member may lead. */
  acquireOnlyWhenAllowed: (obs, d) => {
    const a = d.actions.find((x) => x.type === 'acquire');
    if (!a) return null;
    const { self, lock } = obs;
    if (!obs.storeReady) return 'acquire without a synced store';
    if (self.shuttingDown) return 'acquire while shutting down';
    if (self.giveUp) return 'acquire by a member whose service failed';
    if (!self.healthy || self.nofailover) return 'acquire by a member that may not lead';
    if (!lockIsFree(lock, obs.now) && lock.holder !== self.name) return 'acquire of a live lock held by another member';
    if (a.basis.version !== lock.version) return 'acquire conditional on a version other than the one observed';
    if (promiseBinds(self, obs.now)) return 'acquire while bound by a promise to a failsafe leader';
    if (outsideFailsafeTopology(lock, self.name)) return "acquire by a member outside the holder's failsafe topology";
    return null;
  },
  /** Renew only a lock we hold and still act on. */
  renewOnlyWhileLeading: (obs, d) => {
    const a = d.actions.find((x) => x.type === 'renew');
    if (!a) return null;
    if (!isActing(obs)) return 'renew after the local lease deadline or without leading';
    if (obs.lock.holder !== obs.self.name) return 'renew of a lock held by another member';
    if (obs.self.shuttingDown) return 'renew while shutting down';
    if (a.basis.version !== obs.lock.version) return 'renew conditional on a version other than the one observed';
    return null;
  },
  /** A failsafe round asks every other member any stored topology may name (rule 3 of `failsafe.ts`). */
  failsafeAsksEveryone: (obs, d) => {
    const a = d.actions.find((x) => x.type === 'renew');
    if (!a?.failsafe) return null;
    const named = Object.keys({ ...obs.self.failsafeWritten, ...obs.lock.failsafe }).filter((n) => n !== obs.self.name);
    const missed = named.filter((n) => !Object.hasOwn(a.failsafe!, n));
    return missed.length ? `failsafe round would not ask ${missed.join(', ')}` : null;
  },
  /** Past the local lease deadline the node steps down in the same decision and claims nothing. */
  neverLeadAfterDeadline: (obs, d) => {
    const passed = obs.self.leaseDeadline !== null && obs.now >= obs.self.leaseDeadline;
    if (!passed) return null;
    if (!has(d, 'step-down')) return 'lease deadline passed but no step-down';
    if (d.actions.some((a) => a.type === 'publish-status' && a.status.role === 'primary')) return 'primary status published after the lease deadline';
    return null;
  },
  /** A leader that sees the lock name someone else (or no one) steps down at once. */
  stepDownWhenLockLost: (obs, d) => {
    if (!isActing(obs) || !obs.storeReady || obs.self.shuttingDown) return null;
    if (obs.lock.holder !== obs.self.name && !has(d, 'step-down')) return 'lock lost but no step-down';
    return null;
  },
  /** Publish the primary role only while leading, and never together with a step-down. */
  primaryOnlyWhileLeading: (obs, d) => {
    const claims = d.actions.some((a) => a.type === 'publish-status' && a.status.role === 'primary');
    if (!claims) return null;
    if (!isActing(obs) || has(d, 'step-down') || obs.lock.holder !== obs.self.name) return 'primary status published without leading';
    if (obs.self.primaryReady === false) return 'primary status published before the service runs as a primary';
    return null;
  },
  /**
   * The lock is released only after the service has stopped, only our own lock, and only on shutdown or when the
   * service cannot come back (`giveUp`).
   */
  releaseOnlyAfterStop: (obs, d) => {
    if (!has(d, 'release')) return null;
    if (!obs.self.shuttingDown && !obs.self.giveUp) return 'release outside shutdown';
    if (!obs.self.stopped) return 'release before the service stopped';
    if (obs.lock.holder !== obs.self.name) return 'release of a lock held by another member';
    return null;
  },
  /** At most one lock write per decision. */
  oneLockWrite: (_obs, d) => (d.actions.filter((a) => LOCK_WRITES.has(a.type)).length > 1 ? 'more than one lock write in one decision' : null),
};

/** The rules a decision breaks, by name; empty when it is safe. */
export function violations(obs: Observation, decision: Decision): { rule: string; message: string }[] {
  const out: { rule: string; message: string }[] = [];
  for (const [rule, check] of Object.entries(RULES)) {
    const message = check(obs, decision);
    if (message) out.push({ rule, message });
  }
  return out;
}
