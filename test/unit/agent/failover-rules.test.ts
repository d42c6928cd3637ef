import fc from 'fast-check';
import { type OtherCandidate, type RaceRules, raceVerdict, type SelfCandidate } from '../../../agent/src/core/failover-rules';

const me = (over: Partial<SelfCandidate> = {}): SelfCandidate => ({ name: 'a', lsn: 100n, timeline: 2, failoverPriority: 1, ...over });
const other = (name: string, over: Partial<OtherCandidate> = {}): OtherCandidate => ({
  name,
  reachable: true,
  isPrimary: false,
  lsn: 100n,
  nofailover: false,
  failoverPriority: 1,
  ...over,
});
const rules = (over: Partial<RaceRules> = {}): RaceRules => ({ maximumLagOnFailover: 1000, ...over });

describe('raceVerdict', () => {
  it.each<[string, SelfCandidate, OtherCandidate[], RaceRules, boolean]>([
    ['alone and fit', me(), [], rules(), true],
    ['equal to the others', me(), [other('b'), other('c')], rules(), true],
    ['behind another member', me(), [other('b', { lsn: 101n })], rules(), false],
    ['behind a member that may not lead: still fit', me(), [other('b', { lsn: 200n, nofailover: true })], rules(), true],
    ['behind a member with priority 0: still fit', me(), [other('b', { lsn: 200n, failoverPriority: 0 })], rules(), true],
    ['behind an unreachable member: still fit', me(), [other('b', { lsn: 200n, reachable: false })], rules(), true],
    ['tie with higher priority elsewhere', me(), [other('b', { failoverPriority: 2 })], rules(), false],
    ['tie with lower priority elsewhere', me({ failoverPriority: 3 }), [other('b', { failoverPriority: 2 })], rules(), true],
    ['another member still primary', me(), [other('b', { isPrimary: true, lsn: 1n })], rules(), false],
    ['lag beyond maximum_lag_on_failover', me({ lsn: 100n }), [], rules({ leaderOptime: 1101n }), false],
    ['lag within maximum_lag_on_failover', me({ lsn: 100n }), [], rules({ leaderOptime: 1100n }), true],
    ['position unknown with a known optime', me({ lsn: undefined }), [], rules({ leaderOptime: 5n }), false],
    ['older timeline than the cluster', me({ timeline: 1 }), [], rules({ clusterTimeline: 2 }), false],
    ['a switchover names another member', me(), [], rules({ candidate: 'b' }), false],
    ['a switchover names me although another is ahead', me(), [other('b', { lsn: 500n })], rules({ candidate: 'a' }), true],
    ['a switchover moves away from me', me(), [], rules({ switchingFrom: 'a' }), false],
    ['sync mode, not a sync standby', me(), [], rules({ syncStandbys: ['b'] }), false],
    ['sync mode, a sync standby', me(), [other('b', { lsn: 500n })], rules({ syncStandbys: ['a'] }), true],
    ['another member on a newer timeline though at a lower position', me({ timeline: 2, lsn: 900n }), [other('b', { timeline: 3, lsn: 100n })], rules(), false],
    ['ahead of a member on an older timeline at a higher position', me({ timeline: 3, lsn: 100n }), [other('b', { timeline: 2, lsn: 900n })], rules(), true],
    ['a member of unknown timeline further ahead', me({ timeline: 3 }), [other('b', { lsn: 101n })], rules(), false],
    // A rolling update replaces revision r1: the primary goes to a member already on the new revision, once.
    [
      'rollout: as far ahead, I am on the outdated revision, another on the new one',
      me({ revision: 'r1' }),
      [other('b', { revision: 'r2' })],
      rules({ outdatedRevisions: ['r1'] }),
      false,
    ],
    [
      'rollout: as far ahead, I am on the new revision, another on the outdated one',
      me({ revision: 'r2' }),
      [other('b', { revision: 'r1', failoverPriority: 5 })],
      rules({ outdatedRevisions: ['r1'] }),
      true,
    ],
    [
      'rollout: the member on the new revision is behind (position comes first)',
      me({ revision: 'r1', lsn: 200n }),
      [other('b', { revision: 'r2', lsn: 100n })],
      rules({ outdatedRevisions: ['r1'] }),
      true,
    ],
    ['no rollout: revisions alone change nothing', me({ revision: 'r1' }), [other('b', { revision: 'r2' })], rules(), true],
  ])('%s', (_n, m, o, r, ok) => {
    expect(raceVerdict(m, o, r).ok).toBe(ok);
  });
});

describe('raceVerdict properties', () => {
  const arbOther = fc.record({
    name: fc.constantFrom('b', 'c', 'd'),
    reachable: fc.boolean(),
    isPrimary: fc.boolean(),
    lsn: fc.option(fc.bigInt(0n, 300n), { nil: undefined }),
    nofailover: fc.boolean(),
    failoverPriority: fc.integer({ min: 0, max: 3 }),
  });
  const arbRules = fc.record({
    leaderOptime: fc.option(fc.bigInt(0n, 300n), { nil: undefined }),
    maximumLagOnFailover: fc.integer({ min: 0, max: 100 }),
    syncStandbys: fc.option(fc.subarray(['a', 'b', 'c']), { nil: undefined }),
    candidate: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
  });
  const arbMe = fc.record({
    name: fc.constant('a'),
    lsn: fc.option(fc.bigInt(0n, 300n), { nil: undefined }),
    timeline: fc.constant(1),
    failoverPriority: fc.integer({ min: 1, max: 3 }),
  });

  it('in synchronous mode only a synchronous standby may race (no acknowledged commit lost)', () => {
    fc.assert(
      fc.property(
        arbMe,
        fc.array(arbOther),
        arbRules,
        (m, o, r) => !raceVerdict(m, o, r).ok || r.syncStandbys === undefined || r.syncStandbys.includes(m.name),
      ),
    );
  });

  it('never races while a reachable member still runs as a primary', () => {
    fc.assert(fc.property(arbMe, fc.array(arbOther), arbRules, (m, o, r) => !raceVerdict(m, o, r).ok || !o.some((x) => x.reachable && x.isPrimary)));
  });

  it('never races lagging more than maximum_lag_on_failover', () => {
    fc.assert(
      fc.property(arbMe, fc.array(arbOther), arbRules, (m, o, r) => {
        if (!raceVerdict(m, o, r).ok || r.leaderOptime === undefined) return true;
        return m.lsn !== undefined && r.leaderOptime - m.lsn <= BigInt(r.maximumLagOnFailover);
      }),
    );
  });
});
