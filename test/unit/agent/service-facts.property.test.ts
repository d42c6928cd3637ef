// The safety rules with the facts a PostgreSQL service adds to the observation: its published state, whether it
// runs as a primary yet, and whether it gives the lock up. Random snapshots never make `decide` break a rule.
import fc from 'fast-check';
import { decide } from '../../../agent/src/core/decide';
import { violations } from '../../../agent/src/core/invariants';
import type { MemberState, Observation } from '../../../agent/src/core/model';
import { obs } from './fixtures';

const states: MemberState[] = ['running', 'stopped', 'starting', 'crashed', 'creating replica', 'start failed'];

const observation: fc.Arbitrary<Observation> = fc
  .record({
    now: fc.integer({ min: 0, max: 100_000 }),
    storeReady: fc.boolean(),
    holder: fc.constantFrom(null, 'a', 'b'),
    observedAt: fc.integer({ min: 0, max: 100_000 }),
    healthy: fc.boolean(),
    leaseDeadline: fc.option(fc.integer({ min: 0, max: 100_000 })),
    lastRenewAt: fc.option(fc.integer({ min: 0, max: 100_000 })),
    shuttingDown: fc.boolean(),
    stopped: fc.boolean(),
    state: fc.option(fc.constantFrom(...states), { nil: undefined }),
    primaryReady: fc.option(fc.boolean(), { nil: undefined }),
    giveUp: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map((r) =>
    obs({
      now: r.now,
      storeReady: r.storeReady,
      lock: { holder: r.holder, observedAt: r.observedAt },
      self: {
        healthy: r.healthy,
        leaseDeadline: r.leaseDeadline,
        lastRenewAt: r.lastRenewAt,
        shuttingDown: r.shuttingDown,
        stopped: r.stopped,
        state: r.state,
        primaryReady: r.primaryReady,
        giveUp: r.giveUp,
        published: null,
      },
    }),
  );

describe('safety rules with service facts', () => {
  it('decide never breaks a rule', () => {
    fc.assert(
      fc.property(observation, (o) => {
        expect(violations(o, decide(o, { ttlMs: 30_000, loopWaitMs: 1_000 }))).toEqual([]);
      }),
      { numRuns: 5_000 },
    );
  });

  it('publishes the primary role only once the service runs as a primary', () => {
    fc.assert(
      fc.property(observation, (o) => {
        const d = decide(o, { ttlMs: 30_000, loopWaitMs: 1_000 });
        const claims = d.actions.some((a) => a.type === 'publish-status' && a.status.role === 'primary');
        return !claims || o.self.primaryReady !== false;
      }),
      { numRuns: 2_000 },
    );
  });

  it('never takes the lock while giving it up', () => {
    fc.assert(fc.property(observation, (o) => !o.self.giveUp || !decide(o, { ttlMs: 30_000, loopWaitMs: 1_000 }).actions.some((a) => a.type === 'acquire')));
  });

  it('a leader that gives up releases the lock once its service stopped', () => {
    const o = obs({ now: 10, lock: { holder: 'a', version: '5' }, self: { leaseDeadline: 1_000, lastRenewAt: 5, giveUp: true, stopped: true } });
    const d = decide(o, { ttlMs: 30_000, loopWaitMs: 1_000 });
    expect(d.actions.map((a) => a.type)).toEqual(expect.arrayContaining(['step-down', 'release']));
    expect(violations(o, d)).toEqual([]);
  });

  it('fails a decision that publishes the primary role before promotion', () => {
    const o = obs({ now: 10, lock: { holder: 'a' }, self: { leaseDeadline: 1_000, lastRenewAt: 5, primaryReady: false } });
    const bad = {
      actions: [{ type: 'publish-status' as const, status: { state: 'running' as const, role: 'primary' as const } }],
      reason: 'x',
      nextCheckAt: 10,
    };
    expect(violations(o, bad).map((v) => v.rule)).toContain('primaryOnlyWhileLeading');
  });
});
