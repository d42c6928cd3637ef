import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually } from '../../fixtures/cluster';
import { PostgresTestCluster, query, type TestMember } from '../../fixtures/postgres';

jest.setTimeout(120_000);

async function show(m: TestMember, name: string): Promise<string> {
  const [row] = await query<{ v: string }>(m, 'SELECT current_setting($1) AS v', [name]);
  return row!.v;
}

/** Parameter changes go through the agent's own include file and a reload; no ALTER SYSTEM. */
describe('postgres parameters', () => {
  let cluster: PostgresTestCluster;
  let m: TestMember;
  /** The member's static parameters; a change passes the whole set, as the agent does. */
  const with_ = (p: Record<string, string | number | boolean>) => ({ ...m.config.parameters, ...p });

  beforeAll(async () => {
    cluster = await PostgresTestCluster.create();
    m = await cluster.member('params', { parameters: { work_mem: '4MB' } });
    await m.pg.bootstrap();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('writes the configured parameters and the settings the agent depends on', async () => {
    expect(await show(m, 'work_mem')).toBe('4MB');
    expect(await show(m, 'wal_level')).toBe('replica');
    expect(await show(m, 'wal_log_hints')).toBe('on');
    expect(await show(m, 'hot_standby')).toBe('on');
    expect(await show(m, 'listen_addresses')).toBe('127.0.0.1');
    expect(await show(m, 'port')).toBe(String(m.port));
    expect(await show(m, 'data_checksums')).toBe('on');
    const [auto] = await query<{ n: string }>(m, "SELECT count(*)::text AS n FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'");
    expect(auto!.n).toBe('0');
  });

  test('applies a reloadable change without a restart', async () => {
    const pid = m.pg.pid;
    const res = await m.pg.applyParameters(with_({ work_mem: '8MB' }));
    expect(res).toEqual({ changed: ['work_mem'], restartRequired: [] });
    await eventually('work_mem reloaded', async () => ((await show(m, 'work_mem')) === '8MB' ? true : undefined));
    expect(m.pg.pid).toBe(pid);
    expect(await m.pg.applyParameters(with_({ work_mem: '8MB' }))).toEqual({ changed: [], restartRequired: [] });
  });

  test('reports a postmaster-context change as needing a restart, and applies it on restart', async () => {
    const res = await m.pg.applyParameters(with_({ work_mem: '8MB', Shared_Buffers: '32MB' }));
    expect(res).toEqual({ changed: ['shared_buffers'], restartRequired: ['shared_buffers'] });
    await eventually('pending restart reported', async () => ((await m.pg.snapshot()).server?.pendingRestart.includes('shared_buffers') ? true : undefined));
    expect(await show(m, 'shared_buffers')).toBe('16MB');

    await m.pg.stop('fast', 30_000);
    await m.pg.start();
    expect(await show(m, 'shared_buffers')).toBe('32MB');
    expect((await m.pg.snapshot()).server?.pendingRestart).toEqual([]);
  });

  test('removing a parameter restores the default', async () => {
    const res = await m.pg.applyParameters(with_({ shared_buffers: '32MB' }));
    expect(res).toEqual({ changed: ['work_mem'], restartRequired: [] });
    await eventually('work_mem back to the default', async () => ((await show(m, 'work_mem')) === '4MB' ? true : undefined));
  });

  test('fails on an unknown setting, an invalid value or a setting the agent manages, keeping the previous file', async () => {
    const file = join(m.config.dataDir, 'pgha.conf.d', '10-parameters.conf');
    const before = await readFile(file, 'utf8');
    await expect(m.pg.applyParameters(with_({ shared_buffers: '32MB', no_such_setting: 1 }))).rejects.toMatchObject({
      name: 'ConfigError',
      key: 'postgresql.parameters.no_such_setting',
    });
    await expect(m.pg.applyParameters(with_({ shared_buffers: '32MB', work_mem: 'lots' }))).rejects.toMatchObject({
      name: 'ConfigError',
      key: 'postgresql.parameters.work_mem',
    });
    await expect(m.pg.applyParameters(with_({ shared_buffers: 'lots' }))).rejects.toMatchObject({
      name: 'ConfigError',
      key: 'postgresql.parameters.shared_buffers',
    });
    await expect(m.pg.applyParameters({ port: 5999 })).rejects.toMatchObject({ name: 'ConfigError', key: 'postgresql.parameters.port' });
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(await show(m, 'work_mem')).toBe('4MB');
  });

  test('accepts custom extension settings', async () => {
    const res = await m.pg.applyParameters(with_({ shared_buffers: '32MB', 'pgha_test.flag': "it's on" }));
    expect(res).toEqual({ changed: ['pgha_test.flag'], restartRequired: [] });
    await eventually('custom setting visible', async () =>
      (await query<{ v: string | null }>(m, "SELECT current_setting('pgha_test.flag', true) AS v"))[0]!.v === "it's on" ? true : undefined,
    );
  });

  test('sets and clears synchronous_standby_names with a reload', async () => {
    expect(await m.pg.getSynchronousStandbyNames()).toBe('');
    expect(await m.pg.setSynchronousStandbyNames('1 ("member-b","member-c")')).toEqual({ changed: ['synchronous_standby_names'], restartRequired: [] });
    await eventually('synchronous_standby_names set', async () =>
      (await m.pg.getSynchronousStandbyNames()) === '1 ("member-b","member-c")' ? true : undefined,
    );
    await m.pg.setSynchronousStandbyNames('');
    await eventually('synchronous_standby_names cleared', async () => ((await m.pg.getSynchronousStandbyNames()) === '' ? true : undefined));
  });
});
