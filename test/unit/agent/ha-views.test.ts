import type { OtherCandidate } from '../../../agent/src/core/failover-rules';
import { clusterJson } from '../../../agent/src/ha/cluster-json';
import { switchoverDue } from '../../../agent/src/ha/hand-over';
import { clusterTimeline, failoverRequest, hostPortOf, leaderUpstream, type MemberRecord, openRequest, promotable } from '../../../agent/src/ha/cluster-view';
import { effectiveTiming, mergeConfig, parseDynamicConfig, validateDynamicConfig } from '../../../agent/src/ha/dynamic-config';
import { candidateFromStatus } from '../../../agent/src/ha/peer-status';
import { switchoverRefusal } from '../../../agent/src/ha/switchover-request';
import type { KubeObject } from '../../../agent/src/kube/object-cache';

const member = (name: string, status: Record<string, unknown>): MemberRecord => ({
  name,
  status,
  connUrl: `postgres://192.0.2.${name.slice(-1)}:5432/postgres`,
  apiUrl: `http://192.0.2.${name.slice(-1)}:8008/patroni`,
});
const kube = (annotations: Record<string, string>) => ({ metadata: { name: 'x', annotations } });

describe('parseDynamicConfig', () => {
  it("reads Patroni's keys", () => {
    const r = parseDynamicConfig(
      JSON.stringify({
        pause: true,
        maximum_lag_on_failover: 5,
        synchronous_mode: 'on',
        synchronous_node_count: 2,
        postgresql: { parameters: { work_mem: '8MB', max_connections: 50 } },
      }),
    );
    expect(r).toMatchObject({
      ok: true,
      config: { pause: true, maximumLagOnFailover: 5, synchronousMode: true, synchronousNodeCount: 2, parameters: { work_mem: '8MB', max_connections: 50 } },
    });
  });
  it.each([
    ['not JSON', '{x'],
    ['not an object', '[1]'],
    ['bad parameters', '{"postgresql":{"parameters":[1]}}'],
    ['bad parameter value', '{"postgresql":{"parameters":{"a":{"b":1}}}}'],
    ['pg_hba not a list', '{"postgresql":{"pg_hba":"host all all all md5"}}'],
    ['pg_hba with two lines in one', '{"postgresql":{"pg_hba":["host all all all md5\\nlocal all all trust"]}}'],
  ])('fails on %s', (_n, text) => {
    expect(parseDynamicConfig(text).ok).toBe(false);
  });
  it('reads postgresql.pg_hba as Patroni writes it; absent means none', () => {
    expect(parseDynamicConfig('{"postgresql":{"pg_hba":["host all all all md5"]}}')).toMatchObject({ ok: true, config: { pgHba: ['host all all all md5'] } });
    expect((parseDynamicConfig('{"ttl":30}') as { config: { pgHba?: unknown } }).config.pgHba).toBeUndefined();
  });
  it('quorum mode runs as synchronous mode', () => {
    expect(parseDynamicConfig('{"synchronous_mode":"quorum"}')).toMatchObject({ ok: true, config: { synchronousMode: true } });
    expect(parseDynamicConfig('{"synchronous_mode":false}')).toMatchObject({ ok: true, config: { synchronousMode: false } });
  });
  it('an absent annotation is the empty configuration', () => {
    expect(parseDynamicConfig(undefined)).toMatchObject({ ok: true, config: { pause: false, synchronousMode: false } });
  });
});

describe('mergeConfig (PATCH /config)', () => {
  it('merges objects, deletes nulls, replaces the rest', () => {
    expect(
      mergeConfig(
        { ttl: 30, pause: true, postgresql: { parameters: { a: 1, b: 2 } } },
        { pause: null, ttl: 20, postgresql: { parameters: { a: null, c: 3 } } },
      ),
    ).toEqual({
      ttl: 20,
      postgresql: { parameters: { b: 2, c: 3 } },
    });
  });
});

describe('cluster views', () => {
  it('hostPortOf reads conn_url', () => {
    expect(hostPortOf('postgres://192.0.2.3:5433/postgres')).toBe('192.0.2.3:5433');
    expect(hostPortOf('postgres://[fd00::1]:5432/postgres')).toBe('fd00::1:5432');
    expect(hostPortOf('nonsense')).toBeUndefined();
  });
  it('streams from the holder only once it runs as a primary past its post-promote checkpoint', () => {
    expect(leaderUpstream([member('m1', { state: 'running', role: 'primary' })], 'm1')).toBe('192.0.2.1:5432');
    expect(leaderUpstream([member('m1', { state: 'running', role: 'master' })], 'm1')).toBe('192.0.2.1:5432');
    expect(leaderUpstream([member('m1', { state: 'running', role: 'replica' })], 'm1')).toBeUndefined();
    expect(leaderUpstream([member('m1', { state: 'running', role: 'primary', checkpoint_after_promote: false })], 'm1')).toBeUndefined();
    expect(leaderUpstream([member('m1', { state: 'running', role: 'primary' })], null)).toBeUndefined();
  });
  it('in synchronous mode the listed standbys and the writing leader are promotable; before any leader wrote it, anyone', () => {
    expect(promotable(kube({ leader: 'a', sync_standby: 'b,c' }))).toEqual(['a', 'b', 'c']);
    expect(promotable(kube({ leader: 'a' }))).toEqual(['a']);
    expect(promotable(kube({}))).toBeUndefined();
    expect(promotable(undefined)).toBeUndefined();
  });
  it.each<[string, { leader?: string; member?: string } | undefined, string | null, boolean]>([
    ['no request', undefined, 'a', false],
    ['a switchover to b, the lock released meanwhile', { leader: 'a', member: 'b' }, null, true],
    ['a switchover to b, a still holds', { leader: 'a', member: 'b' }, 'a', true],
    ['a switchover to b, b holds (or last held) the lock: carried out', { leader: 'a', member: 'b' }, 'b', false],
    ['a switchover to b, c took the lock: still open (b has not led)', { leader: 'a', member: 'b' }, 'c', true],
    ['a switchover away from a, to anyone, a still holds', { leader: 'a' }, 'a', true],
    ['a switchover away from a, to anyone, b holds: carried out', { leader: 'a' }, 'b', false],
  ])('openRequest: %s', (_what, req, holder, open) => {
    expect(openRequest(req, holder) !== undefined).toBe(open);
  });

  it('failoverRequest reads the failover object; an emptied one holds none', () => {
    expect(failoverRequest(kube({ leader: 'a', member: 'b' }))).toEqual({ leader: 'a', member: 'b', scheduledAt: undefined });
    expect(failoverRequest(kube({}))).toBeUndefined();
  });
});

describe('clusterJson (GET /cluster)', () => {
  it("has Patroni's shape: roles, replication state for non-leaders, lag against optime, sorted", () => {
    const out = clusterJson({
      scope: 's',
      members: [
        member('m2', { state: 'running', role: 'replica', replication_state: 'streaming', xlog_location: 90, timeline: 2 }),
        member('m1', { state: 'running', role: 'primary', timeline: 2 }),
      ],
      holder: 'm1',
      optime: 100n,
      syncStandbys: [],
      paused: true,
      failover: { leader: 'm1', member: 'm2', scheduledAt: '2030-01-01T00:00:00+00:00' },
    });
    expect(out).toEqual({
      scope: 's',
      pause: true,
      scheduled_switchover: { at: '2030-01-01T00:00:00+00:00', from: 'm1', to: 'm2' },
      members: [
        { name: 'm1', role: 'leader', state: 'running', api_url: 'http://192.0.2.1:8008/patroni', host: '192.0.2.1', port: 5432, timeline: 2 },
        {
          name: 'm2',
          role: 'replica',
          state: 'streaming',
          api_url: 'http://192.0.2.2:8008/patroni',
          host: '192.0.2.2',
          port: 5432,
          timeline: 2,
          lsn: '0/5A',
          lag: 10,
        },
      ],
    });
  });
});

describe('switchoverRefusal (412 reasons)', () => {
  const members = [member('m1', {}), member('m2', {}), member('m3', {})];
  const ok = (name: string): OtherCandidate => ({ name, reachable: true, isPrimary: false, lsn: 1n, nofailover: false, failoverPriority: 1 });
  it.each<[string, Parameters<typeof switchoverRefusal>[0], string | undefined]>([
    [
      'fine',
      { req: { action: 'switchover', leader: 'm1', candidate: 'm2' }, holder: 'm1', members, sync: undefined, statuses: [ok('m2'), ok('m3')] },
      undefined,
    ],
    ['wrong leader', { req: { action: 'switchover', leader: 'm2' }, holder: 'm1', members, sync: undefined, statuses: [] }, 'leader name does not match'],
    [
      'unknown candidate',
      { req: { action: 'switchover', leader: 'm1', candidate: 'mx' }, holder: 'm1', members, sync: undefined, statuses: [] },
      'candidate does not exists',
    ],
    [
      'candidate not sync',
      { req: { action: 'switchover', leader: 'm1', candidate: 'm3' }, holder: 'm1', members, sync: ['m2'], statuses: [ok('m3')] },
      'candidate name does not match with sync_standby',
    ],
    [
      'no members but the leader',
      { req: { action: 'switchover', leader: 'm1' }, holder: 'm1', members: [member('m1', {})], sync: undefined, statuses: [] },
      'switchover is not possible: cluster does not have members except leader',
    ],
    [
      'nobody healthy',
      { req: { action: 'failover', candidate: 'm2' }, holder: 'm1', members, sync: undefined, statuses: [{ ...ok('m2'), reachable: false }] },
      'failover is not possible: no good candidates have been found',
    ],
  ])('%s', (_n, input, want) => {
    expect(switchoverRefusal(input)).toBe(want);
  });
});

describe('candidateFromStatus (GET /patroni of a peer)', () => {
  it('reads a primary, a replica and a silent member', () => {
    expect(candidateFromStatus('a', { state: 'running', role: 'primary', xlog: { location: 50 } })).toMatchObject({
      reachable: true,
      isPrimary: true,
      lsn: 50n,
    });
    expect(
      candidateFromStatus('b', { state: 'running', role: 'replica', xlog: { received_location: 40, replayed_location: 30 }, tags: { failover_priority: 2 } }),
    ).toMatchObject({ isPrimary: false, lsn: 40n, failoverPriority: 2 });
    expect(candidateFromStatus('c', { state: 'stopped', role: 'primary' })).toMatchObject({ reachable: false, isPrimary: false });
    expect(candidateFromStatus('d', undefined)).toMatchObject({ reachable: false });
  });
});

describe("switchoverDue (the leader's trigger)", () => {
  const primary = {
    running: true,
    accepting: true,
    server: { inRecovery: false },
  } as unknown as import('../../../agent/src/postgres/local-postgres').PostgresSnapshot;
  const standby = {
    running: true,
    accepting: true,
    server: { inRecovery: true },
  } as unknown as import('../../../agent/src/postgres/local-postgres').PostgresSnapshot;
  const now = new Date('2030-01-01T00:00:00Z');
  it.each<[string, Parameters<typeof switchoverDue>[0], Parameters<typeof switchoverDue>[2], boolean]>([
    ['no request', undefined, primary, false],
    ['a switchover from me', { leader: 'a' }, primary, true],
    ['a switchover from me to b', { leader: 'a', member: 'b' }, primary, true],
    ['a failover to b (no leader named)', { member: 'b' }, primary, true],
    ['a request naming me as the candidate', { member: 'a' }, primary, false],
    ['a switchover from someone else', { leader: 'x', member: 'b' }, primary, false],
    ['scheduled later', { leader: 'a', scheduledAt: '2030-01-01T00:00:05+00:00' }, primary, false],
    ['scheduled and due', { leader: 'a', scheduledAt: '2029-12-31T23:59:59+00:00' }, primary, true],
    ['not running as a primary', { leader: 'a' }, standby, false],
  ])('%s', (_n, req, snap, due) => {
    expect(switchoverDue(req, 'a', snap, now)).toBe(due);
  });
});

describe('effectiveTiming (dynamic ttl, loop_wait, retry_timeout)', () => {
  const own = { ttl: 30, loopWait: 10, retryTimeout: 10 };
  const dyn = (text: string) => {
    const r = parseDynamicConfig(text);
    if (!r.ok) throw new Error(r.error);
    return r.config;
  };
  it.each<[string, string, { ttl: number; loopWait: number; retryTimeout: number }, boolean]>([
    ["none set: the member's own", '{}', own, false],
    ['all set and consistent', '{"ttl": 20, "loop_wait": 4, "retry_timeout": 8}', { ttl: 20, loopWait: 4, retryTimeout: 8 }, false],
    ['partly set', '{"ttl": 60}', { ttl: 60, loopWait: 10, retryTimeout: 10 }, false],
    ['inconsistent: ignored with an error', '{"ttl": 20}', own, true],
  ])('%s', (_n, text, want, error) => {
    const r = effectiveTiming(own, dyn(text));
    expect(r.timing).toEqual(want);
    expect(r.error !== undefined).toBe(error);
  });

  it('refuses a whole configuration with a value out of range, naming it (the last good one stays in force)', () => {
    expect(parseDynamicConfig('{"ttl": 3, "loop_wait": 1, "retry_timeout": 1}')).toEqual({ ok: false, error: 'ttl: 3 must be a whole number from 5 to 3600' });
  });
});

describe('validateDynamicConfig (PATCH and PUT /config, and what <scope>-config holds)', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    [
      "Patroni's defaults",
      { ttl: 30, loop_wait: 10, retry_timeout: 10, maximum_lag_on_failover: 1048576, postgresql: { parameters: { max_connections: 100 } } },
      [],
    ],
    ['digit strings, as Patroni accepts them', { ttl: '30', pause: 'true' }, []],
    ['unknown keys are kept', { some_future_key: { a: 1 } }, []],
    ['null deletes (after a PATCH merge nothing is left)', { ttl: null }, []],
    ['a word for a number', { ttl: 'abc' }, ['ttl: "abc" must be a whole number from 5 to 3600']],
    ['a negative ttl', { ttl: -5 }, ['ttl: -5 must be a whole number from 5 to 3600']],
    ['an infinite loop_wait', { loop_wait: Infinity }, ['loop_wait: Infinity must be a whole number from 1 to 3600']],
    ['a fraction', { retry_timeout: 2.5 }, ['retry_timeout: 2.5 must be a whole number from 1 to 3600']],
    [
      'timings that let a lock expire under a retrying leader',
      { ttl: 20, loop_wait: 10, retry_timeout: 10 },
      ['ttl: 20 must be at least loop_wait + 2 * retry_timeout = 30'],
    ],
    ['synchronous_mode', { synchronous_mode: 'yes' }, ['synchronous_mode: "yes" must be true, false or "quorum"']],
    [
      'a parameter that is an object',
      { postgresql: { parameters: { work_mem: { a: 1 } } } },
      ['postgresql.parameters.work_mem: {"a":1} must be a string, a finite number or a boolean'],
    ],
    ['parameters that are not an object', { postgresql: { parameters: [1] } }, ['postgresql.parameters: [1] must be an object']],
  ])('%s', (_n, config, problems) => {
    expect(validateDynamicConfig(config)).toEqual(problems);
  });
});

describe('clusterTimeline', () => {
  const cfg = (history: string | undefined): KubeObject => ({ metadata: { name: 'demo-config', annotations: history === undefined ? {} : { history } } });

  it('is one past the newest timeline that ended in a promotion', () => {
    expect(clusterTimeline(cfg('[[1,100,"no recovery target specified","2030-01-01T00:00:00+00:00","a"],[2,200,"x","t","b"]]'))).toBe(3);
  });
  it('is unknown before the first promotion, and for unreadable history', () => {
    expect(clusterTimeline(cfg(undefined))).toBeUndefined();
    expect(clusterTimeline(cfg('[]'))).toBeUndefined();
    expect(clusterTimeline(cfg('{not json'))).toBeUndefined();
    expect(clusterTimeline(cfg('[["x"]]'))).toBeUndefined();
  });
});
