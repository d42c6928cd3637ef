import { clusterView, hostPort, type ObjectMeta } from '../../../agent/src/cli/cluster-view';

const pod = (name: string, status: Record<string, unknown> | string | undefined): ObjectMeta => ({
  metadata: { name, annotations: status === undefined ? {} : { status: typeof status === 'string' ? status : JSON.stringify(status) } },
});
const obj = (name: string, annotations: Record<string, string>, resourceVersion = '1'): ObjectMeta => ({ metadata: { name, resourceVersion, annotations } });

describe('clusterView', () => {
  const pods = [
    pod('demo-1', {
      conn_url: 'postgres://192.0.2.2:5432/postgres',
      api_url: 'http://192.0.2.2:8008/patroni',
      state: 'running',
      role: 'replica',
      timeline: 2,
      xlog_location: 50331648,
    }),
    pod('demo-0', {
      conn_url: 'postgres://192.0.2.1:5433/postgres',
      api_url: 'http://192.0.2.1:8008/patroni',
      state: 'running',
      role: 'primary',
      timeline: 2,
      xlog_location: 67108864,
    }),
    pod('demo-2', { conn_url: 'postgres://192.0.2.3:5432/postgres', state: 'streaming', role: 'replica', pending_restart: true, tags: { nofailover: true } }),
    pod('not-a-member', undefined),
    pod('broken', '{not json'),
  ];

  it('gives roles from the lock and the sync key, lag against optime, members sorted', () => {
    const view = clusterView({
      scope: 'demo',
      pods,
      leader: obj('demo-leader', { leader: 'demo-0', optime: '67108864' }),
      sync: obj('demo-sync', { leader: 'demo-0', sync_standby: 'demo-2' }),
      config: obj(
        'demo-config',
        {
          initialize: '7300000000000000001',
          config: '{"ttl":30,"pause":true}',
          history: '[[1,25165824,"no recovery target specified","2024-01-01T00:00:00+00:00","demo-1"]]',
        },
        '42',
      ),
    });
    expect(view.members.map((m) => [m.name, m.role, m.host, m.port, m.timeline, m.lagBytes])).toEqual([
      ['demo-0', 'Leader', '192.0.2.1', 5433, 2, undefined],
      ['demo-1', 'Replica', '192.0.2.2', 5432, 2, 16777216],
      ['demo-2', 'Sync Standby', '192.0.2.3', 5432, undefined, undefined],
    ]);
    expect(view).toMatchObject({ scope: 'demo', leader: 'demo-0', systemId: '7300000000000000001', paused: true, configVersion: '42' });
    expect(view.history).toEqual([
      { timeline: 1, lsn: 25165824, reason: 'no recovery target specified', timestamp: '2024-01-01T00:00:00+00:00', newLeader: 'demo-1' },
    ]);
    expect(view.members[2]).toMatchObject({ pendingRestart: true, tags: { nofailover: true } });
    expect(view.warnings).toEqual(['status of broken is not valid JSON']);
  });

  it('shows no leader and no config before bootstrap', () => {
    const view = clusterView({ scope: 'demo', pods: pods.slice(0, 2) });
    expect(view.leader).toBeUndefined();
    expect(view.members.every((m) => m.role === 'Replica')).toBe(true);
    expect(view).toMatchObject({ paused: false, config: undefined, history: [] });
  });

  it('reports a corrupt config annotation rather than hiding it', () => {
    const view = clusterView({ scope: 'demo', pods: [], config: obj('demo-config', { config: '[1,2]', history: '{"a":1}' }) });
    expect(view.config).toBeUndefined();
    expect(view.warnings).toEqual(['the config annotation is not a JSON object', 'history is not a list']);
  });

  it('does not count a sync key written for a previous leader', () => {
    const view = clusterView({ scope: 'demo', pods, leader: obj('l', { leader: 'demo-1' }), sync: obj('s', { leader: 'demo-0', sync_standby: 'demo-2' }) });
    expect(view.members.find((m) => m.name === 'demo-2')!.role).toBe('Replica');
  });

  it('reads a scheduled switchover from the failover key', () => {
    const view = clusterView({
      scope: 'demo',
      pods: [],
      failover: obj('f', { leader: 'demo-0', member: 'demo-1', scheduled_at: '2030-01-01T00:00:00+00:00' }),
    });
    expect(view.scheduledSwitchover).toEqual({ at: '2030-01-01T00:00:00+00:00', from: 'demo-0', to: 'demo-1' });
  });
});

describe('hostPort', () => {
  it.each([
    ['postgres://192.0.2.1:5432/postgres', '192.0.2.1', 5432],
    ['postgres://[fd00::1]:6432/postgres', 'fd00::1', 6432],
    ['postgres://db/postgres', 'db', 5432],
  ])('%s', (url, host, port) => expect(hostPort(url)).toEqual({ host, port }));
});
