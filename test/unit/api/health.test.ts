import { type HealthFacts, healthStatus, parseLag } from '../../../agent/src/api/health';
import { primaryFacts } from './health-facts';

const primary: HealthFacts = primaryFacts;
const replica: HealthFacts = { ...primary, role: 'replica', holdsLock: false, replicationState: 'streaming', lagBytes: 100 };

describe('parseLag', () => {
  it.each([
    ['0', 0],
    ['1024', 1024],
    ['16MB', 16 * 1024 * 1024],
    ['1kB', 1024],
    ['2 GB', 2 * 1024 ** 3],
  ])('parses %p as %p bytes', (input, bytes) => expect(parseLag(input)).toBe(bytes));
  it.each(['', 'ten', '-5', '1.5MB', '3PB'])('refuses %p', (input) => expect(parseLag(input)).toBeUndefined());
});

describe('healthStatus', () => {
  it.each<[string, string, Record<string, string>, HealthFacts, number]>([
    ['the primary', '', {}, primary, 200],
    ['the primary', 'primary', {}, primary, 200],
    ['the primary', 'master', {}, primary, 200],
    ['the primary', 'read-write', {}, primary, 200],
    ['a replica', 'primary', {}, replica, 503],
    ['a primary without the lock', 'primary', {}, { ...primary, holdsLock: false }, 503],
    ['a stopped lock holder', 'primary', {}, { ...primary, state: 'stopped' }, 503],
    ['the leader of a standby cluster', 'primary', {}, { ...primary, role: 'standby_leader', standbyCluster: true }, 503],
    ['the leader of a standby cluster', 'standby-leader', {}, { ...primary, role: 'standby_leader', standbyCluster: true }, 200],
    ['the leader of a standby cluster', 'leader', {}, { ...primary, role: 'standby_leader', standbyCluster: true }, 200],
    ['a replica', 'replica', {}, replica, 200],
    ['the primary', 'replica', {}, primary, 503],
    ['a replica with noloadbalance', 'replica', {}, { ...replica, noloadbalance: true }, 503],
    ['a replica within ?lag', 'replica', { lag: '1kB' }, replica, 200],
    ['a replica beyond ?lag', 'replica', { lag: '10' }, replica, 503],
    ['a replica of unknown lag with ?lag', 'replica', { lag: '1MB' }, { ...replica, lagBytes: undefined }, 503],
    ['a replica with an unparsable ?lag', 'replica', { lag: 'lots' }, replica, 503],
    ['a replica with a matching tag', 'replica', { tag_zone: 'a' }, { ...replica, tags: { zone: 'a' } }, 200],
    ['a replica with another tag value', 'replica', { tag_zone: 'a' }, { ...replica, tags: { zone: 'b' } }, 503],
    ['a replica in the wrong replication state', 'replica', { replication_state: 'streaming' }, { ...replica, replicationState: 'in archive recovery' }, 503],
    ['the primary', 'read-only', {}, primary, 200],
    ['a replica', 'read-only', {}, replica, 200],
    ['a starting replica', 'read-only', {}, { ...replica, state: 'starting' }, 503],
    ['a sync standby', 'sync', {}, { ...replica, syncStandby: true }, 200],
    ['an async replica', 'sync', {}, replica, 503],
    ['an async replica', 'async', {}, replica, 200],
    ['a sync standby', 'async', {}, { ...replica, syncStandby: true }, 503],
    ['a running member', 'health', {}, replica, 200],
    ['a crashed member', 'health', {}, { ...replica, state: 'crashed' }, 503],
    ['a primary whose loop ran within ttl', 'liveness', {}, { ...primary, msSinceLastLoop: 30_000 }, 200],
    ['a primary whose loop stalled past ttl', 'liveness', {}, { ...primary, msSinceLastLoop: 30_001 }, 503],
    ['a replica whose loop stalled past ttl but within 2 ttl', 'liveness', {}, { ...replica, msSinceLastLoop: 59_000 }, 200],
    ['a stalled member in pause', 'liveness', {}, { ...replica, msSinceLastLoop: 600_000, paused: true }, 200],
    ['the primary', 'readiness', {}, primary, 200],
    ['a streaming replica', 'readiness', {}, replica, 200],
    ['a replica past maximum_lag_on_failover', 'readiness', {}, { ...replica, lagBytes: 2 * 1048576 }, 503],
    ['a replica whose lag is unknown', 'readiness', {}, { ...replica, lagBytes: undefined }, 200],
    ['a stopped replica', 'readiness', {}, { ...replica, state: 'stopped' }, 503],
  ])('%s on /%s %j answers %i', (_label, path, query, facts, status) => {
    expect(healthStatus(path, query, facts)).toBe(status);
  });

  it('does not claim paths that are not health checks', () => {
    expect(healthStatus('patroni', {}, primary)).toBeUndefined();
    expect(healthStatus('nonsense', {}, primary)).toBeUndefined();
  });
});
