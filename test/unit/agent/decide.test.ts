import type { ActionType } from '../../../agent/src/core/actions';
import { decide } from '../../../agent/src/core/decide';
import { violations } from '../../../agent/src/core/invariants';
import { leaseDeadlineAfterWrite, leaseSafetyMarginMs } from '../../../agent/src/core/lease';
import type { Observation } from '../../../agent/src/core/model';
import { CONFIG, obs } from './fixtures';

const leading = { leaseDeadline: 20_000, lastRenewAt: 0, published: { state: 'running', role: 'primary' } as const };

// [case, observation, expected action types, reason fragment]
const CASES: [string, Observation, ActionType[], RegExp][] = [
  ['a free lock is taken', obs({ lock: { holder: null } }), ['acquire'], /lock is free/],
  [
    'a member racing for the lock publishes nothing until the race is decided',
    obs({ lock: { holder: null }, self: { published: 'other' } }),
    ['acquire'],
    /lock is free/,
  ],
  ['a missing lock object is created', obs({ lock: { holder: null, version: null } }), ['acquire'], /lock is free/],
  ['a live lock of another member is followed', obs({ now: 29_999, lock: { holder: 'b', observedAt: 0 } }), [], /following/],
  ['a lock unchanged for ttl since we saw it is taken', obs({ now: 30_000, lock: { holder: 'b', observedAt: 0 } }), ['acquire'], /expired/],
  ["the holder's own ttl annotation decides expiry", obs({ now: 15_000, lock: { holder: 'b', ttlMs: 10_000, observedAt: 0 } }), ['acquire'], /expired/],
  ['a lock still naming us after a restart is re-taken conditionally', obs({ lock: { holder: 'a' } }), ['acquire'], /still names this member/],
  ['nofailover never takes a free lock', obs({ self: { nofailover: true } }), [], /may not lead/],
  ['an unhealthy member never takes a free lock, and shows stopped', obs({ self: { healthy: false } }), ['publish-status'], /may not lead/],
  ['nothing is written before the store is synced', obs({ storeReady: false }), [], /store not synced/],
  ['a leader renews once per loop_wait', obs({ now: 10_000, lock: { holder: 'a' }, self: leading }), ['renew'], /renewing/],
  ['a leader does not renew early', obs({ now: 9_999, lock: { holder: 'a' }, self: leading }), [], /holding/],
  [
    'a leader past its lease deadline steps down and does not renew',
    obs({ now: 20_000, lock: { holder: 'a' }, self: leading }),
    ['step-down', 'acquire', 'publish-status'],
    /lease deadline passed/,
  ],
  [
    'a leader whose lock names another member steps down',
    obs({ now: 5_000, lock: { holder: 'b' }, self: leading }),
    ['step-down', 'publish-status'],
    /taken by another member/,
  ],
  [
    'a leader whose deleted lock still names it re-creates it with its renew',
    obs({ now: 10_000, lock: { holder: 'a', version: null }, self: leading }),
    ['renew'],
    /renewing/,
  ],
  [
    'a follower waits ttl after the lock object of a live holder was deleted',
    obs({ now: 29_000, lock: { holder: 'b', version: null, observedAt: 0 } }),
    [],
    /following/,
  ],
  [
    'a follower re-creates a deleted lock once ttl has passed since the deletion',
    obs({ now: 30_000, lock: { holder: 'b', version: null, observedAt: 0 } }),
    ['acquire'],
    /expired/,
  ],
  [
    'a leader whose lock was cleared steps down and races again',
    obs({ now: 5_000, lock: { holder: null, version: null }, self: leading }),
    ['step-down', 'acquire', 'publish-status'],
    /no longer names/,
  ],
  [
    'a new leader publishes the primary role',
    obs({ now: 1, lock: { holder: 'a' }, self: { ...leading, published: { state: 'running', role: 'replica' } } }),
    ['publish-status'],
    /holding/,
  ],
  ['a follower whose pod shows something else publishes again', obs({ lock: { holder: 'b' }, self: { published: 'other' } }), ['publish-status'], /following/],
  ['without a pod nothing is published', obs({ lock: { holder: 'b' }, self: { published: null } }), [], /following/],
  [
    'shutdown stops the service first, keeping the lock',
    obs({ lock: { holder: 'a' }, self: { ...leading, shuttingDown: true } }),
    ['stop-service'],
    /stopping the service/,
  ],
  [
    'shutdown releases the lock after the service stopped',
    obs({ lock: { holder: 'a' }, self: { ...leading, shuttingDown: true, stopped: true } }),
    ['step-down', 'release', 'publish-status', 'finish'],
    /releasing/,
  ],
  [
    'a follower shutting down releases nothing',
    obs({ lock: { holder: 'b' }, self: { shuttingDown: true, stopped: true } }),
    ['publish-status', 'finish'],
    /service stopped$/,
  ],
];

describe('decide', () => {
  it.each(CASES)('%s', (_name, observation, types, reason) => {
    const d = decide(observation, CONFIG);
    expect(d.actions.map((a) => a.type)).toEqual(types);
    expect(d.reason).toMatch(reason);
    expect(violations(observation, d)).toEqual([]);
  });

  it('asks to run again at the lock expiry while following', () => {
    expect(decide(obs({ now: 1_000, lock: { holder: 'b', observedAt: 500 } }), CONFIG).nextCheckAt).toBe(10_000 + 1_000);
    expect(decide(obs({ now: 25_000, lock: { holder: 'b', observedAt: 0 } }), CONFIG).nextCheckAt).toBe(30_000);
  });

  it('asks a leader to run again when its renew is due, and never after its lease deadline', () => {
    expect(decide(obs({ now: 2_000, lock: { holder: 'a' }, self: leading }), CONFIG).nextCheckAt).toBe(10_000);
    expect(decide(obs({ now: 2_000, lock: { holder: 'a' }, self: { ...leading, leaseDeadline: 8_000 } }), CONFIG).nextCheckAt).toBe(8_000);
  });

  it('bases every lock write on the version it observed', () => {
    const d = decide(obs({ lock: { holder: 'b', version: '77', transitions: 4, observedAt: -40_000 } }), CONFIG);
    expect(d.actions[0]).toEqual({ type: 'acquire', basis: { version: '77', holder: 'b', transitions: 4, acquireTime: null } });
  });

  it('ignores wall-clock values entirely: only monotonic observation time matters', () => {
    // Two observations that differ only in the holder's timestamps decide the same.
    const a = decide(obs({ now: 29_000, lock: { holder: 'b', acquireTime: '1999-01-01T00:00:00+00:00' } }), CONFIG);
    const b = decide(obs({ now: 29_000, lock: { holder: 'b', acquireTime: '2999-01-01T00:00:00+00:00' } }), CONFIG);
    expect(a.actions).toEqual(b.actions);
  });
});

describe('lease arithmetic', () => {
  it.each([
    [5_000, 1_000],
    [30_000, 5_000],
    [12_000, 2_000],
    [600_000, 5_000],
  ])('ttl %i ms leaves a safety margin of %i ms', (ttl, margin) => {
    expect(leaseSafetyMarginMs(ttl)).toBe(margin);
    expect(leaseDeadlineAfterWrite(100, ttl)).toBe(100 + ttl - margin);
  });
});
