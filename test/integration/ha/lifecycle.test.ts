// A 3-member cluster of real agents and real PostgreSQL: bootstrap, replicas with slots, and failover after
// SIGKILL of the primary's agent and Postgres, SIGTERM of the primary, and a crash of the primary's Postgres.
import { slotNameForMember } from '../../../agent/src/postgres/slot-name';
import { eventually } from '../../fixtures/cluster';
import { killAndWait } from '../../fixtures/postgres';
import { expectNoOverlap } from '../agent/harness';
import type { HaCluster } from './ha-harness';
import { haSuite } from '../suite';

jest.setTimeout(300_000);
let cluster: HaCluster;
const suite = haSuite('ha-life', { scope: 'life', size: 3, ttl: 10, primaryStartTimeout: 30 }, async (c) => {
  cluster = c;
  c.startAll();
});

async function writeRow(primary: string, value: string): Promise<void> {
  await cluster.query(primary, 'CREATE TABLE IF NOT EXISTS t (v text)');
  await cluster.query(primary, 'INSERT INTO t VALUES ($1)', [value]);
}

async function rows(name: string): Promise<string[]> {
  return (await cluster.query<{ v: string }>(name, 'SELECT v FROM t ORDER BY v')).map((r) => r.v);
}

async function replicasOf(primary: string): Promise<string[]> {
  const others = cluster.members.map((m) => m.name).filter((n) => n !== primary && cluster.agents.get(n)?.running);
  for (const n of others) await cluster.streaming(n);
  return others;
}

it('bootstraps: one member initializes and leads, the others clone it and stream through their own slots', async () => {
  const primary = await cluster.writablePrimary(120_000);
  const initializers = cluster.all.filter((a) => a.find((l) => l.msg === 'won the initialize race; bootstrapping the cluster'));
  expect(initializers.map((a) => a.name)).toEqual([primary]);
  const replicas = await replicasOf(primary);
  expect(replicas).toHaveLength(2);
  await writeRow(primary, 'a');
  await eventually('row on the replicas', async () => ((await Promise.all(replicas.map(rows))).every((r) => r.includes('a')) ? true : undefined));
  const slots = (await cluster.query<{ slot_name: string; active: boolean }>(primary, 'SELECT slot_name, active FROM pg_replication_slots ORDER BY 1')).map(
    (r) => r.slot_name,
  );
  expect(slots).toEqual(replicas.map(slotNameForMember).sort());
  // Patroni's records: the system identifier, the Pod status fields, the role labels.
  const sysid = (await cluster.query<{ id: string }>(primary, 'SELECT system_identifier::text AS id FROM pg_control_system()'))[0]!.id;
  const cfg = (
    await suite.admin.request<{ metadata: { annotations: Record<string, string> } }>({
      method: 'GET',
      path: `/api/v1/namespaces/${suite.namespace}/configmaps/life-config`,
    })
  ).body;
  expect(cfg.metadata.annotations.initialize).toBe(sysid);
  await eventually('labels and status', async () => {
    const labels = await Promise.all(cluster.members.map((m) => cluster.roleLabel(m.name)));
    return labels.filter((l) => l === 'primary').length === 1 && labels.filter((l) => l === 'replica').length === 2 ? true : undefined;
  });
  expect(await cluster.roleLabel(primary)).toBe('primary');
  const status = await cluster.statusOf(primary);
  expect(status).toMatchObject({ state: 'running', role: 'primary', timeline: 1, conn_url: `postgres://127.0.0.1:${cluster.member(primary).pgPort}/postgres` });
  expect(typeof status.xlog_location).toBe('number');
  await eventually('replica status fields', async () => {
    const s = await cluster.statusOf(replicas[0]!);
    return s.state === 'running' && s.role === 'replica' && s.replication_state === 'streaming' && typeof s.xlog_location === 'number' ? true : undefined;
  });
  const patroni = await cluster.api(primary, 'GET', '/patroni');
  expect(patroni.status).toBe(200);
  expect(JSON.parse(patroni.text)).toMatchObject({
    state: 'running',
    role: 'primary',
    timeline: 1,
    patroni: { scope: 'life', name: primary },
    database_system_identifier: sysid,
  });
  expect((await cluster.api(primary, 'GET', '/primary')).status).toBe(200);
  expect((await cluster.api(replicas[0]!, 'GET', '/primary')).status).toBe(503);
  expect((await cluster.api(replicas[0]!, 'GET', '/replica')).status).toBe(200);
  // Readiness compares the leader's last published position with the replica's last snapshot (one loop apart):
  // right after bootstrap the leader's position jumps (the clone's checkpoint and WAL switch), so the replica is
  // ready once it has replayed that far, not necessarily at this very moment.
  await eventually('the replica ready', async () => ((await cluster.api(replicas[0]!, 'GET', '/readiness')).status === 200 ? true : undefined), 30_000, 200);
});

it('SIGKILL of the primary agent and its Postgres: a replica takes over with every row; the old primary rejoins', async () => {
  const old = await cluster.writablePrimary();
  await writeRow(old, 'b');
  for (const r of await replicasOf(old)) await eventually('row b replicated', async () => ((await rows(r)).includes('b') ? true : undefined));
  const pgPid = await cluster.postmasterPid(old);
  cluster.agent(old).signal('SIGKILL');
  await cluster.agent(old).exited;
  // The kernel kills its Postgres with it (test hook); make sure before going on.
  if (pgPid !== undefined) await killAndWait(pgPid);
  const next = await cluster.writablePrimary(60_000, old);
  expect(await rows(next)).toEqual(expect.arrayContaining(['a', 'b']));
  await writeRow(next, 'c');
  cluster.start(old);
  await cluster.streaming(old, 90_000);
  await eventually('old primary has the new rows', async () => ((await rows(old)).includes('c') ? true : undefined), 30_000);
  expect(await cluster.holder()).toBe(next);
  expectNoOverlap(cluster.all);
});

it('SIGTERM of the primary: Postgres stops, the lock is released, a caught-up replica takes over', async () => {
  const old = await cluster.writablePrimary();
  await writeRow(old, 'd');
  const replicas = await replicasOf(old);
  for (const r of replicas) await eventually('row d replicated', async () => ((await rows(r)).includes('d') ? true : undefined));
  const agent = cluster.agent(old);
  agent.signal('SIGTERM');
  expect(await agent.exited).toBe(0);
  // Exit can be seen before the last lines are read from the pipe: wait for the line, not for the exit.
  const releasedLine = await agent.waitFor('the lock released', (l) => l.msg === 'released the lock', 5_000);
  expect(await cluster.postmasterPid(old)).toBeUndefined();
  const next = await cluster.writablePrimary(30_000, old);
  expect(replicas).toContain(next);
  expect(await rows(next)).toEqual(expect.arrayContaining(['a', 'b', 'c', 'd']));
  // The stopped primary no longer claims to be one, so the candidates race the moment the lock is released.
  const released = Date.parse(releasedLine.ts);
  const heldBack = replicas.flatMap((r) =>
    cluster
      .agent(r)
      .lines.filter((l) => l.msg === 'not racing for the lock' && l.why === 'another member still runs as a primary' && Date.parse(l.ts) >= released),
  );
  expect(heldBack).toEqual([]);
  cluster.start(old);
  await cluster.streaming(old, 90_000);
  expectNoOverlap(cluster.all);
});

it('a crash of the primary Postgres under a live agent: restarted at once, the same member keeps leading', async () => {
  const leader = await cluster.writablePrimary();
  const pid = await cluster.postmasterPid(leader);
  expect(pid).toBeDefined();
  const agent = cluster.agent(leader);
  const before = agent.lines.length;
  await killAndWait(pid!);
  await eventually('crash noticed', async () => (agent.lines.slice(before).some((l) => l.msg === 'postgres exited unexpectedly') ? true : undefined), 10_000);
  await eventually(
    'postgres restarted',
    async () => {
      const now = await cluster.postmasterPid(leader);
      return now !== undefined && now !== pid ? true : undefined;
    },
    60_000,
  );
  expect(await cluster.writablePrimary(60_000)).toBe(leader);
  await writeRow(leader, 'e');
  expect(agent.lines.slice(before).some((l) => l.msg === 'stopped acting as leader')).toBe(false);
  expectNoOverlap(cluster.all);
});
