import { decide } from '../../../agent/src/core/decide';
import { failsafePeers, failsafeRoundDeadline, type FailsafeRequestFacts, failsafeVerdict, outsideFailsafeTopology } from '../../../agent/src/core/failsafe';
import { violations } from '../../../agent/src/core/invariants';
import { leaseDeadlineAfterWrite } from '../../../agent/src/core/lease';
import { failsafeAnnotation } from '../../../agent/src/ha/failsafe-topology';
import { failsafeUrl } from '../../../agent/src/loop/failsafe-client';
import { CONFIG, lock, obs } from './fixtures';

const TOPOLOGY = { a: 'http://192.0.2.1:8008/patroni', b: 'http://192.0.2.2:8008/patroni', c: 'http://192.0.2.3:8008/patroni' };

const asked: FailsafeRequestFacts = {
  now: 1_000,
  enabled: true,
  from: 'b',
  durationMs: 30_000,
  leading: false,
  runsAsPrimary: false,
  acquiring: false,
  storeReady: true,
  holder: 'b',
  promisedUntil: null,
};

describe('a member asked for a failsafe promise', () => {
  it('states exactly the duration asked whatever the clock reading (no float rounding below it)', () => {
    for (const now of [0.1, 123456.789, 9_876_543.21, 1e9 + 0.3]) {
      const v = failsafeVerdict({ ...asked, now, promisedUntil: null, durationMs: 10_000 });
      expect(v).toMatchObject({ granted: true, promisedMs: 10_000 });
    }
  });

  it('promises for the duration asked, from now, and never shortens an earlier promise', () => {
    expect(failsafeVerdict(asked)).toEqual({ granted: true, until: 31_000, promisedMs: 30_000 });
    expect(failsafeVerdict({ ...asked, promisedUntil: 50_000 })).toEqual({ granted: true, until: 50_000, promisedMs: 49_000 });
    // With no view of the lock (a member that just started) the promise only restricts the member itself.
    expect(failsafeVerdict({ ...asked, storeReady: false, holder: null })).toEqual({ granted: true, until: 31_000, promisedMs: 30_000 });
  });

  it.each<[string, Partial<FailsafeRequestFacts>, number, RegExp]>([
    ['failsafe mode is off here', { enabled: false }, 502, /not enabled/],
    ['it leads', { leading: true }, 500, /Running as a leader/],
    ['its PostgreSQL runs as a primary', { runsAsPrimary: true }, 500, /Running as a leader/],
    ['its own acquire is in flight', { acquiring: true }, 503, /racing/],
    ['its lock names another holder', { holder: 'c' }, 409, /names c, not b/],
    ['its lock names no holder', { holder: null }, 409, /names no one, not b/],
  ])('refuses when %s', (_what, over, status, reason) => {
    const v = failsafeVerdict({ ...asked, ...over });
    expect(v).toEqual({ granted: false, status, reason: expect.stringMatching(reason) });
  });
});

describe('a failsafe round', () => {
  it('earns the lease from its start when every member asked promised at least the ttl asked', () => {
    const answers = [
      { name: 'b', promisedMs: 30_000 },
      { name: 'c', promisedMs: 45_000 },
    ];
    expect(failsafeRoundDeadline(['b', 'c'], answers, 5_000, 30_000)).toBe(leaseDeadlineAfterWrite(5_000, 30_000));
    expect(failsafeRoundDeadline([], [], 5_000, 30_000)).toBe(leaseDeadlineAfterWrite(5_000, 30_000));
  });

  it.each([
    [
      'a member refused or did not answer',
      [
        { name: 'b', promisedMs: 30_000 },
        { name: 'c', promisedMs: null },
      ],
    ],
    [
      'a member promised less than asked',
      [
        { name: 'b', promisedMs: 30_000 },
        { name: 'c', promisedMs: 29_999 },
      ],
    ],
    ['a member is missing from the answers', [{ name: 'b', promisedMs: 30_000 }]],
    [
      'the answer came from someone not asked',
      [
        { name: 'b', promisedMs: 30_000 },
        { name: 'x', promisedMs: 30_000 },
      ],
    ],
  ])('earns nothing when %s', (_what, answers) => {
    expect(failsafeRoundDeadline(['b', 'c'], answers, 5_000, 30_000)).toBeNull();
  });

  it('asks the topology without the leader, and only a leader that is in it', () => {
    expect(failsafePeers(lock({ holder: 'a', failsafe: TOPOLOGY }), { name: 'a' })).toEqual({ b: TOPOLOGY.b, c: TOPOLOGY.c });
    expect(failsafePeers(lock({ holder: 'a', failsafe: { b: TOPOLOGY.b } }), { name: 'a' })).toBeNull();
    expect(failsafePeers(lock({ holder: 'a' }), { name: 'a' })).toBeNull();
  });

  it('also asks the members that a write of its own, not yet confirmed, may have added to the stored topology', () => {
    // The view still shows the leader alone; a renew that named c may have landed without an answer. An empty
    // round would be unanimous while c, reading the newer topology, owes no promise.
    const alone = lock({ holder: 'a', failsafe: { a: TOPOLOGY.a } });
    expect(failsafePeers(alone, { name: 'a', failsafeWritten: { a: TOPOLOGY.a, c: TOPOLOGY.c } })).toEqual({ c: TOPOLOGY.c });
    expect(failsafePeers(lock({ holder: 'a' }), { name: 'a', failsafeWritten: TOPOLOGY })).toEqual({ b: TOPOLOGY.b, c: TOPOLOGY.c });
  });
});

describe('decide in failsafe mode', () => {
  const expired = { holder: 'b', observedAt: 0, failsafe: TOPOLOGY };

  it('keeps a member that promised out of the race for an expired lock until the promise ends', () => {
    const bound = obs({ now: 40_000, lock: expired, self: { failsafePromiseUntil: 45_000 } });
    const d = decide(bound, CONFIG);
    expect(d.actions.map((x) => x.type)).not.toContain('acquire');
    expect(d.reason).toMatch(/promised the failsafe leader/);
    expect(d.nextCheckAt).toBe(45_000);
    expect(decide(obs({ now: 45_000, lock: expired, self: { failsafePromiseUntil: 45_000 } }), CONFIG).actions.map((x) => x.type)).toContain('acquire');
  });

  it("keeps a member outside the holder's topology out while the lock names a holder", () => {
    const outsider = obs({ now: 40_000, lock: { ...expired, failsafe: { b: TOPOLOGY.b } } });
    expect(outsideFailsafeTopology(outsider.lock, 'a')).toBe(true);
    expect(decide(outsider, CONFIG).reason).toMatch(/not in the leader's failsafe topology/);
    // A released lock names no holder: no failsafe leader can be acting on it.
    expect(decide(obs({ now: 40_000, lock: { holder: null, failsafe: { b: TOPOLOGY.b } } }), CONFIG).actions.map((x) => x.type)).toContain('acquire');
  });

  it('flags an acquire that breaks a promise or the topology as unsafe', () => {
    const bound = obs({ now: 40_000, lock: expired, self: { failsafePromiseUntil: 45_000 } });
    const acquire = {
      actions: [{ type: 'acquire' as const, basis: { version: '10', holder: 'b', transitions: 0, acquireTime: null } }],
      reason: 'x',
      nextCheckAt: 0,
    };
    expect(violations(bound, acquire).map((v) => v.message)).toContain('acquire while bound by a promise to a failsafe leader');
  });

  it('lets a leader fall back on its topology only in failsafe mode and only when it is in the topology', () => {
    const leader = { leaseDeadline: 25_000, lastRenewAt: 0, published: { state: 'running', role: 'primary' } as const };
    const o = obs({ now: 10_000, lock: { holder: 'a', failsafe: TOPOLOGY }, self: leader });
    const renew = (failsafeMode: boolean) => decide(o, { ...CONFIG, failsafeMode }).actions.find((x) => x.type === 'renew');
    expect(renew(true)).toMatchObject({ failsafe: { b: TOPOLOGY.b, c: TOPOLOGY.c } });
    expect(renew(false)).not.toHaveProperty('failsafe');
  });
});

describe('the failsafe annotation and URLs', () => {
  it('lists every member with a REST API URL and the leader, in name order, leaving out terminating Pods', () => {
    const members = [
      { name: 'c', status: {}, apiUrl: TOPOLOGY.c },
      { name: 'b', status: {} },
      { name: 'd', status: {}, apiUrl: 'http://192.0.2.4:8008/patroni', terminating: true },
    ];
    expect(failsafeAnnotation(members, 'a', TOPOLOGY.a)).toBe(JSON.stringify({ a: TOPOLOGY.a, c: TOPOLOGY.c }));
  });

  it('finds POST /failsafe beside the published /patroni URL', () => {
    expect(failsafeUrl('http://192.0.2.1:8008/patroni')).toBe('http://192.0.2.1:8008/failsafe');
    expect(failsafeUrl('https://[2001:db8::1]:8008/prefix/patroni/')).toBe('https://[2001:db8::1]:8008/prefix/failsafe');
  });
});
