// A primary whose Postgres crashed and cannot come back (its data directory became unreadable) gives the lock up
// after primary_start_timeout, with the agent still running; a replica takes over, and the old primary rejoins
// once its data directory is readable again.
import { chmod } from 'node:fs/promises';
import { killAndWait } from '../../fixtures/postgres';
import { expectNoOverlap } from '../agent/harness';
import type { HaCluster } from './ha-harness';
import { haSuite } from '../suite';

jest.setTimeout(300_000);
let cluster: HaCluster;
const suite = haSuite('ha-pst', { scope: 'pst', size: 2, ttl: 10, primaryStartTimeout: 3 }, async (c) => {
  cluster = c;
  // Data directories a test made unreadable are given back before the cluster stops.
  suite.onTeardown(async () => {
    for (const m of c.members) await chmod(m.dataDir, 0o700).catch(() => undefined);
  });
  c.startAll();
});

it('releases the lock when its Postgres cannot come back; a replica takes over', async () => {
  const primary = await cluster.writablePrimary(120_000);
  const replica = cluster.members.map((m) => m.name).find((n) => n !== primary)!;
  await cluster.streaming(replica);
  await cluster.query(primary, 'CREATE TABLE t (v int)');
  await cluster.query(primary, 'INSERT INTO t VALUES (1)');
  const { dataDir } = cluster.member(primary);
  await chmod(dataDir, 0o000);
  const pid = await cluster.postmasterPid(primary);
  await killAndWait(pid!);
  const agent = cluster.agent(primary);
  await agent.waitFor('give-up', (l) => l.msg === 'primary did not come back within primary_start_timeout; releasing the lock', 30_000);
  await agent.waitFor('release', (l) => l.msg === 'released the lock', 10_000);
  expect(await cluster.writablePrimary(60_000, primary)).toBe(replica);
  expect(await cluster.query(replica, 'SELECT v FROM t')).toEqual([{ v: 1 }]);
  expect(agent.running).toBe(true);
  await chmod(dataDir, 0o700);
  await cluster.streaming(primary, 120_000);
  expect(await cluster.holder()).toBe(replica);
  expectNoOverlap(cluster.all);
});
