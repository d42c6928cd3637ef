import { eventually } from '../../fixtures/cluster';
import { PostgresTestCluster, query, type TestMember } from '../../fixtures/postgres';
import { readControlData } from '../../../agent/src/postgres/controldata';

/**
 * The whole life of a pair of members against real PostgreSQL 15: bootstrap, clone with a slot, streaming,
 * promotion of the replica, pg_rewind of the diverged former primary, and that one following the new primary.
 * The steps build on each other, in order.
 */
jest.setTimeout(120_000);

describe('postgres replication lifecycle', () => {
  let cluster: PostgresTestCluster;
  let a: TestMember;
  let b: TestMember;
  let systemIdentifier: string;

  beforeAll(async () => {
    cluster = await PostgresTestCluster.create();
    a = await cluster.member('member-a');
    b = await cluster.member('Member.B');
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('bootstraps a primary with checksums, UTF-8 and both roles', async () => {
    ({ systemIdentifier } = await a.pg.bootstrap());
    expect(systemIdentifier).toMatch(/^\d{15,20}$/);

    const control = await readControlData({ binDir: a.config.binDir, dataDir: a.config.dataDir, cwd: a.runDir, runAs: cluster.runAs });
    expect(control.systemIdentifier).toBe(systemIdentifier);
    expect(control.dataChecksums).toBe(true);

    const [db] = await query<{ encoding: string }>(a, "SELECT pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = 'postgres'");
    expect(db!.encoding).toBe('UTF8');
    const roles = await query<{ rolname: string; rolreplication: boolean; rolsuper: boolean }>(
      a,
      "SELECT rolname, rolreplication, rolsuper FROM pg_roles WHERE rolname IN ('postgres', 'replicator') ORDER BY rolname",
    );
    expect(roles).toEqual([
      { rolname: 'postgres', rolreplication: true, rolsuper: true },
      { rolname: 'replicator', rolreplication: true, rolsuper: false },
    ]);
    const [hash] = await query<{ p: string }>(a, "SELECT rolpassword AS p FROM pg_authid WHERE rolname = 'replicator'");
    expect(hash!.p).toMatch(/^SCRAM-SHA-256\$4096:/);

    const snap = await a.pg.snapshot();
    expect(snap).toMatchObject({ running: true, accepting: true, server: { inRecovery: false, timeline: 1, systemIdentifier } });
    expect(snap.server!.serverVersionNum).toBeGreaterThanOrEqual(150000);
  });

  test('re-emits the postgres log as records, and never logs a password', async () => {
    const ready = a.logger.records.find((r) => r.msg === 'postgres log' && /ready to accept connections/.test(String(r.fields.message)));
    expect(ready).toMatchObject({ level: 'info', fields: { severity: 'LOG', stream: 'stderr' } });
    expect(ready!.fields.pid).toBe(a.pg.pid);
    for (const secret of cluster.secrets) expect(a.logger.text()).not.toContain(secret);
  });

  test('clones a streaming replica that uses its own slot', async () => {
    expect(b.pg.slotName).toBe('member_b');
    expect(await a.pg.createSlot(b.pg.slotName)).toBe(true);
    expect(await a.pg.createSlot(b.pg.slotName)).toBe(false);
    await b.pg.createReplica(a.upstream, { expectedSystemIdentifier: systemIdentifier });
    await b.pg.start({ expectedSystemIdentifier: systemIdentifier });

    const streaming = await eventually('replica streaming from member-a', async () => {
      const s = await a.pg.snapshot();
      return s.server?.replication.find((r) => r.applicationName === 'Member.B' && r.state === 'streaming');
    });
    expect(streaming.syncState).toBe('async');
    const slots = await a.pg.listSlots();
    expect(slots).toEqual([expect.objectContaining({ name: 'member_b', type: 'physical', active: true })]);

    const snap = await b.pg.snapshot();
    expect(snap.server).toMatchObject({ inRecovery: true, systemIdentifier, timeline: 1 });
    await eventually('replica reports streaming', async () => ((await b.pg.snapshot()).server?.replicationState === 'streaming' ? true : undefined));
  });

  test('replicates a write from the primary', async () => {
    await query(a, 'CREATE TABLE t (id int PRIMARY KEY, origin text)');
    await query(a, "INSERT INTO t VALUES (1, 'a-before-failover')");
    const [{ lsn }] = (await query<{ lsn: string }>(a, 'SELECT pg_current_wal_lsn()::text AS lsn')) as [{ lsn: string }];
    await eventually('row 1 on the replica', async () => ((await query(b, 'SELECT 1 FROM t WHERE id = 1')).length === 1 ? true : undefined));
    const snap = await b.pg.snapshot();
    const { parseLsn } = await import('../../../agent/src/postgres/lsn');
    expect(snap.server!.replayedLsn! >= parseLsn(lsn)).toBe(true);
    expect(snap.server!.receivedLsn! >= snap.server!.replayedLsn!).toBe(true);
  });

  test('promotes the replica to a new timeline', async () => {
    await b.pg.promote();
    const snap = await b.pg.snapshot();
    expect(snap.server).toMatchObject({ inRecovery: false, timeline: 2 });
    await b.pg.promote();
    expect((await b.pg.snapshot()).server).toMatchObject({ inRecovery: false, timeline: 2 });
    await b.pg.checkpoint();
    expect((await b.pg.snapshot()).server).toMatchObject({ timeline: 2, checkpointTimeline: 2 });
    await query(b, "INSERT INTO t VALUES (2, 'b-after-promotion')");
  });

  test('rewinds the diverged former primary and makes it follow the new one', async () => {
    // The old primary keeps taking writes after the promotion: its history now diverges from member B's. Then it
    // goes down hard, as a failed primary does; pg_rewind has to run its crash recovery first.
    await query(a, "INSERT INTO t VALUES (3, 'a-diverged')");
    await a.pg.stop('immediate', 30_000);
    expect(await a.pg.inspectDataDir()).toMatchObject({ control: { clusterState: 'in production' } });
    expect(await b.pg.createSlot(a.pg.slotName)).toBe(true);

    const { rewound } = await a.pg.rewind(b.upstream, { expectedSystemIdentifier: systemIdentifier });
    expect(rewound).toBe(true);
    await a.pg.start({ expectedSystemIdentifier: systemIdentifier });

    await query(b, "INSERT INTO t VALUES (4, 'b-after-rewind')");
    const rows = await eventually('row 4 on the rewound member', async () => {
      const r = await query<{ id: number; origin: string }>(a, 'SELECT id, origin FROM t ORDER BY id');
      return r.some((x) => x.id === 4) ? r : undefined;
    });
    // The diverged row is gone: the rewound member has exactly the new primary's history.
    expect(rows.map((r) => r.id)).toEqual([1, 2, 4]);
    const snap = await a.pg.snapshot();
    expect(snap.server).toMatchObject({ inRecovery: true, timeline: 2 });
    await eventually('member-a streams from member B', async () => {
      const s = await b.pg.snapshot();
      return s.server?.replication.find((r) => r.applicationName === 'member-a' && r.state === 'streaming');
    });
  });

  test('re-points a standby at another upstream without a restart', async () => {
    const pidBefore = a.pg.pid;
    // Point member-a at itself's old address of nothing: an unreachable upstream, then back at member B.
    const res = await a.pg.follow({ host: '127.0.0.1', port: 1 }, { expectedSystemIdentifier: systemIdentifier });
    expect(res.restarted).toBe(false);
    await eventually('member-a stops streaming', async () =>
      (await b.pg.snapshot()).server?.replication.some((r) => r.applicationName === 'member-a') ? undefined : true,
    );
    await a.pg.follow(b.upstream, { expectedSystemIdentifier: systemIdentifier });
    await eventually('member-a streams again', async () =>
      (await b.pg.snapshot()).server?.replication.some((r) => r.applicationName === 'member-a' && r.state === 'streaming') ? true : undefined,
    );
    expect(a.pg.pid).toBe(pidBefore);
  });

  test('switches over: the primary demotes cleanly and follows the promoted standby without a rewind', async () => {
    await query(b, "INSERT INTO t VALUES (5, 'b-before-switchover')");
    expect(await a.pg.createSlot(b.pg.slotName)).toBe(true);
    await b.pg.checkpoint();

    // A fast stop sends every last WAL record to the connected standby before it exits.
    await b.pg.demote(a.upstream, { mode: 'fast', expectedSystemIdentifier: systemIdentifier });
    await a.pg.promote();

    expect((await a.pg.snapshot()).server).toMatchObject({ inRecovery: false, timeline: 3 });
    await query(a, "INSERT INTO t VALUES (6, 'a-after-switchover')");
    const rows = await eventually('row 6 on the demoted member', async () => {
      const r = await query<{ id: number }>(b, 'SELECT id FROM t ORDER BY id');
      return r.some((x) => x.id === 6) ? r : undefined;
    });
    expect(rows.map((r) => r.id)).toEqual([1, 2, 4, 5, 6]);
    await eventually('demoted member on timeline 3', async () => ((await b.pg.snapshot()).server?.timeline === 3 ? true : undefined));
  });

  test('drops a slot only when no standby uses it', async () => {
    await eventually('member B streams through its slot', async () =>
      (await a.pg.listSlots()).some((x) => x.name === b.pg.slotName && x.active) ? true : undefined,
    );
    await expect(a.pg.dropSlot(b.pg.slotName)).rejects.toMatchObject({ name: 'ConflictError' });
    expect(await a.pg.dropSlot('no_such_slot')).toBe(false);
    // The slot member-a used on member B is idle now that member-a is the primary.
    expect(await b.pg.listSlots()).toEqual([expect.objectContaining({ name: a.pg.slotName, active: false })]);
    expect(await b.pg.dropSlot(a.pg.slotName)).toBe(true);
    expect(await b.pg.listSlots()).toEqual([]);
  });
});
