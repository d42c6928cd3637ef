import type { Action, Decision, LockBasis } from './actions';
import { failsafePeers, outsideFailsafeTopology, promiseBinds } from './failsafe';
import { lockExpiresAt, lockIsFree } from './lease';
import type { CoreConfig, MemberStatus, Observation } from './model';

function basisOf(obs: Observation): LockBasis {
  const { version, holder, transitions, acquireTime } = obs.lock;
  return { version, holder, transitions, acquireTime };
}

function sameStatus(a: MemberStatus | 'other' | null, b: MemberStatus): boolean {
  return a !== null && a !== 'other' && a.state === b.state && a.role === b.role;
}

/** Adds a publish action when our Pod does not already show `status`; nothing when we have no Pod. */
function publishIfChanged(obs: Observation, status: MemberStatus, actions: Action[]): void {
  if (obs.self.published !== null && !sameStatus(obs.self.published, status)) actions.push({ type: 'publish-status', status });
}

function shutdown(obs: Observation, config: CoreConfig): Decision {
  const { now, self, lock } = obs;
  const actions: Action[] = [];
  if (!self.stopped) {
    // The service stops first; the lock stays ours meanwhile, so no one else starts while we still run.
    if (self.leaseDeadline !== null && now >= self.leaseDeadline) actions.push({ type: 'step-down', cause: 'lease-deadline' });
    actions.push({ type: 'stop-service' });
    return { actions, reason: 'shutting down: stopping the service', nextCheckAt: now + config.loopWaitMs };
  }
  if (self.leaseDeadline !== null) actions.push({ type: 'step-down', cause: 'shutdown' });
  const release = lock.holder === self.name && lock.version !== null;
  if (release) actions.push({ type: 'release', basis: basisOf(obs) });
  publishIfChanged(obs, { state: 'stopped', role: 'replica' }, actions);
  actions.push({ type: 'finish' });
  return { actions, reason: release ? 'shutting down: service stopped, releasing the lock' : 'shutting down: service stopped', nextCheckAt: now };
}

/**
 * The decision core: from one snapshot to the actions this node takes now and the reason. Pure: no clock, no I/O,
 * no randomness. `invariants.ts` checks every decision it makes.
 */
export function decide(obs: Observation, config: CoreConfig): Decision {
  if (obs.self.shuttingDown) return shutdown(obs, config);
  const { now, self, lock } = obs;
  const actions: Action[] = [];
  const reasons: string[] = [];
  let nextCheckAt = now + config.loopWaitMs;

  const deadlinePassed = self.leaseDeadline !== null && now >= self.leaseDeadline;
  let leading = self.leaseDeadline !== null && !deadlinePassed;
  if (deadlinePassed) {
    actions.push({ type: 'step-down', cause: 'lease-deadline' });
    reasons.push('lease deadline passed without a successful renew');
  }

  if (!obs.storeReady) {
    // Without a synced view we write nothing to the lock; a leader keeps leading only until its deadline.
    reasons.push('store not synced');
    if (leading) nextCheckAt = Math.min(nextCheckAt, self.leaseDeadline!);
    return { actions, reason: reasons.join('; '), nextCheckAt };
  }

  const holderIsMe = lock.holder === self.name;
  if (leading && !holderIsMe) {
    actions.push({ type: 'step-down', cause: 'lock-lost' });
    reasons.push(lock.holder === null ? 'lock no longer names this member' : 'lock taken by another member');
    leading = false;
  }

  if (leading && self.giveUp && self.stopped) {
    // The service gives the lock up (its primary cannot come back, or a switchover hands over): release it at once
    // rather than let it expire, so a replica takes over.
    actions.push({ type: 'step-down', cause: 'give-up' });
    if (lock.version !== null) actions.push({ type: 'release', basis: basisOf(obs) });
    reasons.push('local service gives the lock up; releasing it');
    leading = false;
  } else if (leading) {
    const dueAt = self.lastRenewAt === null ? now : self.lastRenewAt + config.loopWaitMs;
    if (now >= dueAt) {
      const peers = config.failsafeMode ? failsafePeers(lock, self) : null;
      actions.push({ type: 'renew', basis: basisOf(obs), ...(peers ? { failsafe: peers } : {}) });
      reasons.push('renewing the lock');
    } else {
      reasons.push('holding the lock');
      nextCheckAt = dueAt;
    }
    nextCheckAt = Math.min(nextCheckAt, self.leaseDeadline!);
  } else {
    const mayLead = self.healthy && !self.nofailover && !self.giveUp;
    const free = lockIsFree(lock, now);
    const promised = promiseBinds(self, now);
    const outside = outsideFailsafeTopology(lock, self.name);
    if ((free || holderIsMe) && mayLead && !promised && !outside) {
      actions.push({ type: 'acquire', basis: basisOf(obs) });
      reasons.push(holderIsMe ? 'lock still names this member' : lock.holder === null ? 'lock is free' : 'lock expired');
    } else if (free && promised) {
      reasons.push('lock expired but this member promised the failsafe leader to stay out');
      nextCheckAt = Math.min(nextCheckAt, self.failsafePromiseUntil!);
    } else if (free && outside) {
      reasons.push("lock expired but this member is not in the leader's failsafe topology");
    } else if (free) {
      reasons.push('lock is free but this member may not lead');
    } else {
      reasons.push('following the lock holder');
      nextCheckAt = Math.min(nextCheckAt, lockExpiresAt(lock));
    }
  }

  // While racing for the lock, publishing "replica" first would be a wasted write: the run right after the race
  // publishes the outcome. A primary label, though, comes off at once.
  const racing = actions.some((a) => a.type === 'acquire');
  const showsPrimary = self.published !== null && self.published !== 'other' && self.published.role === 'primary';
  const state = self.state ?? (self.healthy ? 'running' : 'stopped');
  const role = leading && (self.primaryReady ?? true) ? 'primary' : 'replica';
  if (!racing || showsPrimary) publishIfChanged(obs, { state, role }, actions);
  return { actions, reason: reasons.join('; '), nextCheckAt };
}
