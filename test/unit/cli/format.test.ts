import { clusterView, type ObjectMeta } from '../../../agent/src/cli/cluster-view';
import { formatHistory, formatList, formatLsn, historyJson, lagMb, listJson, table } from '../../../agent/src/cli/format';

const pod = (name: string, status: Record<string, unknown>): ObjectMeta => ({ metadata: { name, annotations: { status: JSON.stringify(status) } } });

describe('format', () => {
  const view = clusterView({
    scope: 'demo',
    pods: [
      pod('demo-0', {
        conn_url: 'postgres://127.0.0.10:5432/postgres',
        api_url: 'http://127.0.0.10:8008/patroni',
        state: 'running',
        role: 'primary',
        timeline: 3,
      }),
      pod('demo-1', { conn_url: 'postgres://127.0.0.11:5433/postgres', state: 'running', role: 'replica', timeline: 3, xlog_location: 1000 }),
    ],
    leader: { metadata: { name: 'demo-leader', annotations: { leader: 'demo-0', optime: String(1000 + 3 * 1048576) } } },
    config: { metadata: { name: 'demo-config', annotations: { initialize: '7301', config: '{"pause":true}' } } },
  });

  it('prints the list as an aligned table with the cluster title', () => {
    expect(formatList(view)).toBe(
      [
        'Cluster: demo (system id 7301, maintenance mode: paused)',
        'Member  Host             Role     State    TL  Lag in MB',
        'demo-0  127.0.0.10       Leader   running  3',
        'demo-1  127.0.0.11:5433  Replica  running  3   3',
      ].join('\n'),
    );
  });

  it('gives scripts Patroni role names and byte lag in JSON', () => {
    expect(listJson(view)).toMatchObject({
      scope: 'demo',
      leader: 'demo-0',
      pause: true,
      members: [
        { name: 'demo-0', role: 'leader', lag: null, api_url: 'http://127.0.0.10:8008/patroni' },
        { name: 'demo-1', role: 'replica', lag: 3 * 1048576, port: 5433 },
      ],
    });
  });

  it("shows a member's scheduled restart in a column of its own, and in JSON", () => {
    const scheduled = clusterView({
      scope: 'demo',
      pods: [
        pod('demo-0', {
          conn_url: 'postgres://127.0.0.10:5432/postgres',
          state: 'running',
          role: 'replica',
          scheduled_restart: { schedule: '2030-01-01T10:00:00+00:00' },
        }),
        pod('demo-1', { conn_url: 'postgres://127.0.0.11:5432/postgres', state: 'running', role: 'replica' }),
      ],
    });
    expect(formatList(scheduled).split('\n').slice(1, 3)).toEqual([
      'Member  Host        Role     State    TL  Lag in MB  Scheduled restart',
      'demo-0  127.0.0.10  Replica  running                 2030-01-01T10:00:00+00:00',
    ]);
    const members = listJson(scheduled).members as Record<string, unknown>[];
    expect(members).toMatchObject([{ name: 'demo-0', scheduled_restart: '2030-01-01T10:00:00+00:00' }, { name: 'demo-1' }]);
    expect(members[1]).not.toHaveProperty('scheduled_restart');
  });

  it('says when no member has published a status', () => {
    expect(formatList(clusterView({ scope: 'x', pods: [] }))).toContain('(no members have published a status)');
  });

  it('prints history as a table and as Patroni lists', () => {
    const entries = [{ timeline: 1, lsn: 25165824, reason: 'no recovery target specified', timestamp: 't', newLeader: 'demo-1' }];
    expect(formatHistory(entries)).toBe(
      'TL  LSN       Reason                        Timestamp  New Leader\n1   25165824  no recovery target specified  t          demo-1',
    );
    expect(historyJson(entries)).toEqual([[1, 25165824, 'no recovery target specified', 't', 'demo-1']]);
  });

  it.each([
    [undefined, ''],
    [0, '0'],
    [1048576 * 2, '2'],
    [1572864, '1.5'],
    [88, '0'],
  ])('lag %p bytes is %p MB', (bytes, text) => expect(lagMb(bytes)).toBe(text));

  it('formats LSNs as PostgreSQL does', () => {
    expect(formatLsn(0x1_0000_00a0)).toBe('1/A0');
    expect(formatLsn(0x3000060)).toBe('0/3000060');
  });

  it('pads columns to the widest cell', () => {
    expect(table(['a', 'bb'], [['ccc', 'd']])).toBe('a    bb\nccc  d');
  });
});
