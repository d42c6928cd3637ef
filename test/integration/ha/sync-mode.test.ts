// Synchronous mode: a writer records every commit the primary acknowledged while the primary is killed again and
// again (agent and Postgres together); afterwards every acknowledged commit is on the last primary.
import { ssnMembers } from '../../../agent/src/core/sync-plan';
import { eventually } from '../../fixtures/cluster';
import { killAndWait } from '../../fixtures/postgres';
import { expectNoOverlap } from '../agent/harness';
import type { HaCluster } from './ha-harness';
import { haSuite } from '../suite';
import { sleep } from '../../../agent/src/clock';

jest.setTimeout(600_000);
const FAILOVERS = 3;
let cluster: HaCluster;
const suite = haSuite('ha-sync', { scope: 'sync', size: 3, ttl: 10, dcs: { synchronous_mode: true, synchronous_node_count: 1 } }, async (c) => {
  cluster = c;
  c.startAll();
});

async function syncObject(): Promise<{ leader?: string; sync_standby?: string }> {
  try {
    const res = await suite.admin.request<{ metadata: { annotations?: Record<string, string> } }>({
      method: 'GET',
      path: `/api/v1/namespaces/${suite.namespace}/configmaps/sync-sync`,
    });
    return res.body.metadata.annotations ?? {};
  } catch {
    return {};
  }
}

/** Waits until the leader has a recorded synchronous standby that PostgreSQL also waits for. */
async function syncEstablished(): Promise<{ primary: string; standby: string }> {
  return eventually(
    'a synchronous standby',
    async () => {
      const primary = await cluster.holder();
      const obj = await syncObject();
      if (!primary || obj.leader !== primary || !obj.sync_standby) return undefined;
      const ssn = (await cluster.tryQuery<{ s: string }>(primary, "SELECT current_setting('synchronous_standby_names') AS s"))?.[0]?.s;
      const standby = obj.sync_standby.split(',')[0]!;
      return ssn !== undefined && ssnMembers(ssn).includes(standby) ? { primary, standby } : undefined;
    },
    120_000,
    200,
  );
}

/** Inserts ids one by one through whichever member holds the lock; records those whose commit was acknowledged. */
function startWriter(): { stop: () => Promise<number[]> } {
  const acked: number[] = [];
  let running = true;
  let next = 1;
  const done = (async () => {
    while (running) {
      const holder = await cluster.holder().catch(() => undefined);
      if (!holder) {
        await sleep(100);
        continue;
      }
      let client;
      try {
        client = await cluster.connect(holder);
        await client.query('SET statement_timeout = 5000');
        while (running) {
          const id = next++;
          await client.query('INSERT INTO acked (id) VALUES ($1)', [id]);
          acked.push(id);
        }
      } catch {
        await sleep(100);
      } finally {
        await client?.end().catch(() => undefined);
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return acked;
    },
  };
}

it('loses no acknowledged commit across repeated failovers; only synchronous standbys are promoted', async () => {
  const first = await cluster.writablePrimary(120_000);
  await cluster.query(first, 'CREATE TABLE acked (id int PRIMARY KEY)');
  await syncEstablished();
  const writer = startWriter();
  const promoted: { name: string; wasSync: string }[] = [];
  for (let round = 0; round < FAILOVERS; round++) {
    const { primary, standby } = await syncEstablished();
    await eventually('writes flowing', async () =>
      (await cluster.tryQuery<{ n: string }>(primary, 'SELECT count(*) AS n FROM acked'))?.[0]?.n !== '0' ? true : undefined,
    );
    const pgPid = await cluster.postmasterPid(primary);
    cluster.agent(primary).signal('SIGKILL');
    await cluster.agent(primary).exited;
    if (pgPid !== undefined) await killAndWait(pgPid);
    const next = await cluster.writablePrimary(90_000, primary);
    promoted.push({ name: next, wasSync: standby });
    cluster.start(primary);
    await cluster.streaming(primary, 120_000);
  }
  await syncEstablished();
  const acked = await writer.stop();
  expect(acked.length).toBeGreaterThan(0);
  const last = await cluster.writablePrimary();
  const present = new Set((await cluster.query<{ id: number }>(last, 'SELECT id FROM acked')).map((r) => r.id));
  const lost = acked.filter((id) => !present.has(id));
  expect(lost).toEqual([]);
  for (const p of promoted) expect(p.name).toBe(p.wasSync);
  expectNoOverlap(cluster.all);
});
