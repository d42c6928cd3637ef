import { parseControlData } from '../../../agent/src/postgres/controldata';
import { wrapCommand } from '../../../agent/src/postgres/run-as';
import { baseSettings, normalizeParameters, parseListen } from '../../../agent/src/postgres/settings';
import { assertSameCluster } from '../../../agent/src/postgres/data-dir';

describe('settings', () => {
  test.each([
    ['0.0.0.0:5432', '0.0.0.0', 5432],
    ['*:5433', '*', 5433],
    ['127.0.0.1,::1:5432', '127.0.0.1,::1', 5432],
    ['[::]:5432', '::', 5432],
  ])('parses listen %s', (listen, addresses, port) => {
    expect(parseListen(listen)).toEqual({ addresses, port });
  });

  test.each(['5432', 'host:', 'host:0', 'host:70000', 'host:x'])('fails on listen %j', (bad) => {
    expect(() => parseListen(bad)).toThrow(/postgresql.listen/);
  });

  test('base settings carry what replication and pg_rewind need', () => {
    expect(baseSettings({ listen: '0.0.0.0:5432', socketDir: '/run/pgha' })).toMatchObject({
      listen_addresses: '0.0.0.0',
      port: 5432,
      unix_socket_directories: '/run/pgha',
      wal_level: 'replica',
      hot_standby: true,
      wal_log_hints: true,
      logging_collector: false,
    });
  });

  test('lower-cases parameter names and refuses the ones the agent manages', () => {
    expect(normalizeParameters({ Work_Mem: '4MB', 'pg_stat_statements.max': 100 })).toEqual({ work_mem: '4MB', 'pg_stat_statements.max': 100 });
    expect(() => normalizeParameters({ port: 1 })).toThrow(/postgresql.parameters.port=1; is managed by pgha/);
    expect(() => normalizeParameters({ Primary_Conninfo: 'x' })).toThrow(/managed by pgha/);
    expect(() => normalizeParameters({ 'bad name': 1 })).toThrow(/not a valid setting name/);
    expect(() => normalizeParameters({ x: { a: 1 } as unknown as string })).toThrow(/string, number or boolean/);
  });
});

const CONTROLDATA = `pg_control version number:            1300
Database system identifier:           7305986456728376621
Database cluster state:               shut down
Latest checkpoint location:           0/3000028
Latest checkpoint's TimeLineID:       2
wal_log_hints setting:                on
Data page checksum version:           1
`;

describe('pg_controldata and the guard', () => {
  test('parses the fields the agent needs', () => {
    expect(parseControlData(CONTROLDATA)).toMatchObject({
      systemIdentifier: '7305986456728376621',
      clusterState: 'shut down',
      checkpointTimeline: 2,
      checkpointLocation: '0/3000028',
      dataChecksums: true,
      walLogHints: true,
    });
  });

  test('fails on output without the system identifier', () => {
    expect(() => parseControlData('nothing: here')).toThrow(/unexpected pg_controldata output/);
  });

  test('refuses another cluster and a foreign directory, passes the rest', () => {
    const control = parseControlData(CONTROLDATA);
    expect(() => assertSameCluster('/d', { kind: 'initialized', control }, '1')).toThrow(/another cluster/);
    expect(() => assertSameCluster('/d', { kind: 'foreign', entries: ['x'] }, undefined)).toThrow(/holds no PostgreSQL cluster/);
    expect(() => assertSameCluster('/d', { kind: 'initialized', control }, '7305986456728376621')).not.toThrow();
    expect(() => assertSameCluster('/d', { kind: 'initialized', control }, undefined)).not.toThrow();
    expect(() => assertSameCluster('/d', { kind: 'empty' }, '1')).not.toThrow();
  });
});

describe('run-as wrapping', () => {
  test('runs the binary directly without a wrapper', () => {
    expect(wrapCommand({}, '/bin/postgres', ['-D', 'x'])).toEqual(['/bin/postgres', '-D', 'x']);
  });

  test('switches user and asks for a parent-death signal through setpriv', () => {
    expect(wrapCommand({ runAs: { uid: 999, gid: 995 }, killWithAgent: true }, '/bin/postgres', [])).toEqual([
      'setpriv',
      '--reuid=999',
      '--regid=995',
      '--clear-groups',
      '--pdeathsig',
      'KILL',
      '--',
      '/bin/postgres',
    ]);
  });
});
