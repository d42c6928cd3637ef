import { eventually } from '../../fixtures/cluster';
import { allGone, childPids, PostgresTestCluster, query, type TestMember } from '../../fixtures/postgres';

jest.setTimeout(120_000);

/** Postgres as the agent's child: crash detection, stop modes, restart after a crash. */
describe('postgres supervision', () => {
  let cluster: PostgresTestCluster;
  let m: TestMember;

  beforeAll(async () => {
    cluster = await PostgresTestCluster.create();
    m = await cluster.member('solo');
    await m.pg.bootstrap();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('reports a SIGKILLed postmaster at once as an unexpected exit', async () => {
    const pid = m.pg.pid!;
    const backends = await childPids(pid);
    expect(backends.length).toBeGreaterThan(0);
    m.events.length = 0;

    process.kill(pid, 'SIGKILL');

    const exit = await eventually('exit event', async () => m.events.find((e) => e.type === 'exited'));
    expect(exit).toEqual({ type: 'exited', pid, code: null, signal: 'SIGKILL', expected: false });
    expect(m.pg.pid).toBeUndefined();
    expect(m.logger.records).toContainEqual(expect.objectContaining({ level: 'error', msg: 'postgres exited unexpectedly' }));
    // Its backends notice the postmaster is gone and exit by themselves.
    await eventually('orphaned backends gone', async () => ((await allGone(backends)) ? true : undefined));
    expect((await m.pg.snapshot()).running).toBe(false);
  });

  test('starts again after the crash, with crash recovery', async () => {
    await m.pg.start();
    const snap = await m.pg.snapshot();
    expect(snap).toMatchObject({ running: true, accepting: true, server: { inRecovery: false } });
    expect(m.events.filter((e) => e.type === 'started')).toHaveLength(1);
    expect(m.logger.records).toContainEqual(
      expect.objectContaining({ msg: 'postgres log', fields: expect.objectContaining({ message: expect.stringMatching(/automatic recovery in progress/) }) }),
    );
  });

  test('a fast stop ends the clients and is an expected exit', async () => {
    const client = await m.connect();
    const ended = new Promise((resolve) => client.on('end', () => resolve(true)));
    m.events.length = 0;
    const pid = m.pg.pid!;

    const res = await m.pg.stop('fast', 30_000);

    expect(res).toEqual({ wasRunning: true, stoppedWith: 'fast' });
    expect(m.events).toEqual([{ type: 'exited', pid, code: 0, signal: null, expected: true }]);
    await expect(ended).resolves.toBe(true);
    expect(await m.pg.stop('fast', 1000)).toEqual({ wasRunning: false });
    const snap = await m.pg.snapshot();
    expect(snap.running).toBe(false);
    expect(snap.dataDir).toMatchObject({ kind: 'initialized', control: { clusterState: 'shut down' } });
  });

  test('a smart stop that clients hold up escalates after the deadline', async () => {
    await m.pg.start();
    const client = await m.connect();
    try {
      const res = await m.pg.stop('smart', 500);
      expect(res).toEqual({ wasRunning: true, stoppedWith: 'immediate' });
      expect(m.logger.records).toContainEqual(
        expect.objectContaining({ level: 'warn', msg: 'postgres did not stop in time; escalating', fields: expect.objectContaining({ mode: 'immediate' }) }),
      );
    } finally {
      await client.end().catch(() => undefined);
    }
  });

  test('re-emits multi-line messages as one record', async () => {
    await m.pg.start();
    await expect(query(m, 'SELECT no_such_column\nFROM pg_class')).rejects.toThrow(/no_such_column/);
    const statement = await eventually('statement record', async () =>
      m.logger.records.find((r) => r.fields.severity === 'STATEMENT' && String(r.fields.message).includes('no_such_column')),
    );
    expect(statement.fields.message).toBe('SELECT no_such_column\nFROM pg_class');
    const error = m.logger.records.find((r) => r.fields.severity === 'ERROR' && String(r.fields.message).includes('no_such_column'));
    expect(error?.level).toBe('error');
  });

  test('following while a primary restarts as a standby; promotion brings it back on a new timeline', async () => {
    const before = m.pg.pid;
    expect(await m.pg.follow(undefined)).toEqual({ restarted: true });
    expect(m.pg.pid).not.toBe(before);
    expect((await m.pg.snapshot()).server).toMatchObject({ inRecovery: true, replicationState: 'in archive recovery' });
    // Already a standby: a reload is enough.
    expect(await m.pg.follow(undefined)).toEqual({ restarted: false });

    await m.pg.promote();
    expect((await m.pg.snapshot()).server).toMatchObject({ inRecovery: false, timeline: 2 });
  });
});
