import type { CoreConfig, LockView, Observation, SelfView } from '../../../agent/src/core/model';

export const CONFIG: CoreConfig = { ttlMs: 30_000, loopWaitMs: 10_000 };

export function lock(over: Partial<LockView> = {}): LockView {
  return { version: '10', holder: null, ttlMs: 30_000, transitions: 0, acquireTime: null, observedAt: 0, ...over };
}

export function self(over: Partial<SelfView> = {}): SelfView {
  return {
    name: 'a',
    healthy: true,
    nofailover: false,
    leaseDeadline: null,
    lastRenewAt: null,
    shuttingDown: false,
    stopped: false,
    published: { state: 'running', role: 'replica' },
    ...over,
  };
}

export function obs(over: { now?: number; storeReady?: boolean; lock?: Partial<LockView>; self?: Partial<SelfView> } = {}): Observation {
  return { now: over.now ?? 1_000, storeReady: over.storeReady ?? true, lock: lock(over.lock), members: [], self: self(over.self) };
}
