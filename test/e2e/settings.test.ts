// PostgreSQL settings given to the Helm chart reach every member on a real node: parameters in each server, and
// synchronous mode in force (a synchronous standby listed by the primary). A changed parameter rolls the members
// through `helm upgrade`, since the members read their configuration file when they start.
import { eventually } from '../fixtures/cluster';
import type { ClusterUnderTest } from './support/cluster-under-test';
import { deployHelm, helm, helmChart } from './support/deploy';
import { E2eSession } from './support/e2e-cluster';
import { FAST_HELM_VALUES } from './support/faults';

const session = new E2eSession();
afterEach(() => session.cleanup());
afterAll(() => session.close());

/** `SHOW name` on every member, straight to each Pod. */
async function everyMember(c: ClusterUnderTest, name: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const pod of await c.pods()) {
    const target = await c.podTarget(pod.name);
    try {
      const [row] = await c.sql<Record<string, string>>(target, `SHOW ${name}`);
      out[pod.name] = row![name]!;
    } finally {
      await target.relay.stop();
    }
  }
  return out;
}

it('postgresql.parameters and synchronousMode from helm values are in force on every member; a changed parameter rolls them', async () => {
  const ns = await session.namespace('e2e-settings');
  const values = {
    ...FAST_HELM_VALUES,
    'postgresql.parameters.max_connections': '150',
    'postgresql.parameters.work_mem': '16MB',
    synchronousMode: 'true',
  };
  const c = session.track(await deployHelm(session.cluster, ns, 'tuned', values));
  await c.healthy();
  const members = (await c.pods()).map((p) => p.name);
  expect(await everyMember(c, 'max_connections')).toEqual(Object.fromEntries(members.map((m) => [m, '150'])));
  expect(await everyMember(c, 'work_mem')).toEqual(Object.fromEntries(members.map((m) => [m, '16MB'])));
  await eventually(
    'a synchronous standby',
    async () => {
      const rows = await c.sql<{ n: string }>(await c.target(), "SELECT count(*) AS n FROM pg_stat_replication WHERE sync_state = 'sync'");
      return Number(rows[0]?.n) === 1 ? true : undefined;
    },
    60_000,
    200,
  );

  helm(session.cluster, ['upgrade', 'tuned', helmChart(), '-n', ns, '--reuse-values', '--set', 'postgresql.parameters.max_connections=170']);
  await session.cluster.kubectl(['rollout', 'status', 'statefulset/tuned', '-n', ns, '--timeout=600s'], { timeoutMs: 620_000 });
  await c.healthy();
  expect(await everyMember(c, 'max_connections')).toEqual(Object.fromEntries(members.map((m) => [m, '170'])));
}, 600_000);
