// A replica that lagged behind the last leader position by more than maximum_lag_on_failover is never promoted,
// even when it is the only member left.
import { eventually } from '../../fixtures/cluster';
import { killAndWait } from '../../fixtures/postgres';
import type { HaCluster } from './ha-harness';
import { haSuite } from '../suite';
import { sleep } from '../../../agent/src/clock';

jest.setTimeout(300_000);
const MAX_LAG = 65536;
let cluster: HaCluster;
const suite = haSuite('ha-lag', { scope: 'lag', size: 2, ttl: 10, dcs: { maximum_lag_on_failover: MAX_LAG } }, async (c) => {
  cluster = c;
  c.startAll();
});

async function optime(): Promise<bigint> {
  const res = await suite.admin.request<{ metadata: { annotations?: Record<string, string> } }>({
    method: 'GET',
    path: `/api/v1/namespaces/${suite.namespace}/configmaps/lag-leader`,
  });
  return BigInt(res.body.metadata.annotations?.optime ?? '0');
}

it('is not promoted: it stays a standby and says why', async () => {
  const primary = await cluster.writablePrimary(120_000);
  const replica = cluster.members.map((m) => m.name).find((n) => n !== primary)!;
  await cluster.streaming(replica);
  const lsnRow = await cluster.query<{ lsn: string }>(replica, 'SELECT pg_last_wal_receive_lsn()::text AS lsn');
  expect(lsnRow[0]!.lsn).toMatch(/\//);
  // The replica stops; the primary writes well past maximum_lag_on_failover and publishes that position.
  const r = cluster.agent(replica);
  r.signal('SIGTERM');
  expect(await r.exited).toBe(0);
  await cluster.query(primary, "CREATE TABLE big AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 20000) g");
  const target = (await cluster.query<{ l: string }>(primary, "SELECT (pg_current_wal_flush_lsn() - '0/0'::pg_lsn)::bigint::text AS l"))[0]!.l;
  await eventually('optime published', async () => ((await optime()) >= BigInt(target) ? true : undefined));
  // The primary dies with its Postgres; only the lagging replica is left.
  const pgPid = await cluster.postmasterPid(primary);
  cluster.agent(primary).signal('SIGKILL');
  await cluster.agent(primary).exited;
  if (pgPid !== undefined) await killAndWait(pgPid);
  const again = cluster.start(replica);
  await again.waitFor('refusal to race', (l) => l.msg === 'not racing for the lock' && l.why === 'lags more than maximum_lag_on_failover', 60_000);
  await sleep(3000);
  expect(again.find((l) => l.msg === 'acquired the lock')).toBeUndefined();
  expect((await cluster.query<{ r: boolean }>(replica, 'SELECT pg_is_in_recovery() AS r'))[0]!.r).toBe(true);
  expect((await cluster.api(replica, 'GET', '/primary')).status).toBe(503);
});
