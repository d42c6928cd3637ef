// Planned switchovers through the REST API (to a named candidate and to any), through the `<scope>-failover`
// object written by someone else (what patronictl does when the REST call fails), and pause mode.
import { STRATEGIC_MERGE_PATCH } from '../../../agent/src/kube/kube-client';
import { eventually } from '../../fixtures/cluster';
import { killAndWait } from '../../fixtures/postgres';
import { expectNoOverlap } from '../agent/harness';
import type { HaCluster } from './ha-harness';
import { haSuite } from '../suite';
import { sleep } from '../../../agent/src/clock';

jest.setTimeout(300_000);
let cluster: HaCluster;
const suite = haSuite('ha-sw', { scope: 'sw', size: 3, ttl: 10 }, async (c) => {
  cluster = c;
  c.startAll();
  const primary = await c.writablePrimary(120_000);
  for (const m of c.members) if (m.name !== primary) await c.streaming(m.name);
  await c.query(primary, 'CREATE TABLE t (v int)');
});

async function settled(): Promise<{ primary: string; replicas: string[] }> {
  const primary = await cluster.writablePrimary();
  const replicas = cluster.members.map((m) => m.name).filter((n) => n !== primary);
  for (const r of replicas) await cluster.streaming(r, 90_000);
  return { primary, replicas };
}

async function failoverObject(): Promise<Record<string, string>> {
  const res = await suite.admin.request<{ metadata: { annotations?: Record<string, string> } }>({
    method: 'GET',
    path: `/api/v1/namespaces/${suite.namespace}/configmaps/sw-failover`,
  });
  return res.body.metadata.annotations ?? {};
}

it("switchover to a named candidate: 200 with Patroni's message, the candidate leads, the old primary follows", async () => {
  const { primary, replicas } = await settled();
  await cluster.query(primary, 'INSERT INTO t VALUES (1)');
  const candidate = replicas[1]!;
  const res = await cluster.api(primary, 'POST', '/switchover', { leader: primary, candidate });
  expect(res).toEqual({ status: 200, text: `Successfully switched over to "${candidate}"` });
  expect(await cluster.writablePrimary(30_000)).toBe(candidate);
  expect(await cluster.query(candidate, 'SELECT v FROM t')).toEqual([{ v: 1 }]);
  await cluster.streaming(primary, 90_000);
  await eventually('failover key cleared', async () => (Object.keys(await failoverObject()).length === 0 ? true : undefined));
  // The history records the promotion.
  const history = await cluster.api(candidate, 'GET', '/history');
  expect(JSON.parse(history.text)).toEqual(
    expect.arrayContaining([expect.arrayContaining([1, expect.any(Number), expect.any(String), expect.any(String), candidate])]),
  );
  expectNoOverlap(cluster.all);
});

it('switchover to any member: the lock moves to one of the replicas', async () => {
  const { primary, replicas } = await settled();
  const res = await cluster.api(primary, 'POST', '/switchover', { leader: primary });
  expect(res.status).toBe(200);
  const next = await cluster.writablePrimary(30_000, primary);
  expect(replicas).toContain(next);
  expect(res.text).toBe(`Successfully switched over to "${next}"`);
  expectNoOverlap(cluster.all);
});

it("refuses impossible switchovers with Patroni's 412 reasons", async () => {
  const { primary, replicas } = await settled();
  expect(await cluster.api(primary, 'POST', '/switchover', { leader: replicas[0], candidate: replicas[1] })).toEqual({
    status: 412,
    text: 'leader name does not match',
  });
  expect(await cluster.api(primary, 'POST', '/switchover', { leader: primary, candidate: 'nobody' })).toEqual({
    status: 412,
    text: 'candidate does not exists',
  });
  expect(await cluster.holder()).toBe(primary);
});

it('a scheduled switchover: 202, shown in GET /cluster, carried out once due', async () => {
  const { primary, replicas } = await settled();
  const at = new Date(Date.now() + 4000).toISOString().replace('Z', '+00:00');
  const res = await cluster.api(primary, 'POST', '/switchover', { leader: primary, candidate: replicas[0], scheduled_at: at });
  expect(res).toEqual({ status: 202, text: 'Switchover scheduled' });
  expect(JSON.parse((await cluster.api(primary, 'GET', '/cluster')).text).scheduled_switchover).toMatchObject({ from: primary, to: replicas[0] });
  expect(await cluster.holder()).toBe(primary);
  expect(await cluster.writablePrimary(60_000, primary)).toBe(replicas[0]);
  await eventually('failover key cleared', async () => (Object.keys(await failoverObject()).length === 0 ? true : undefined));
  expectNoOverlap(cluster.all);
});

it("a failover object written by someone else (patronictl's fallback) moves the lock to its candidate", async () => {
  const { primary, replicas } = await settled();
  const candidate = replicas[0]!;
  await suite.admin
    .request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${suite.namespace}/configmaps/sw-failover`,
      contentType: STRATEGIC_MERGE_PATCH,
      body: { metadata: { annotations: { leader: primary, member: candidate } } },
    })
    .catch(async () =>
      suite.admin.request({
        method: 'POST',
        path: `/api/v1/namespaces/${suite.namespace}/configmaps`,
        body: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'sw-failover', labels: { 'cluster-name': 'sw' }, annotations: { leader: primary, member: candidate } },
        },
      }),
    );
  expect(await cluster.writablePrimary(30_000, primary)).toBe(candidate);
  await eventually('failover key cleared', async () => (Object.keys(await failoverObject()).length === 0 ? true : undefined));
  expectNoOverlap(cluster.all);
});

it('pause: a dead primary is not replaced until resume; the lock is still renewed meanwhile', async () => {
  const { primary, replicas } = await settled();
  const patched = await cluster.api(primary, 'PATCH', '/config', { pause: true });
  expect(patched.status).toBe(200);
  expect(JSON.parse(patched.text)).toMatchObject({ pause: true });
  // The leader keeps renewing in pause.
  const renewBefore = (
    await suite.admin.request<{ metadata: { annotations: Record<string, string> } }>({
      method: 'GET',
      path: `/api/v1/namespaces/${suite.namespace}/configmaps/sw-leader`,
    })
  ).body.metadata.annotations.renewTime;
  await sleep(2500);
  const renewAfter = (
    await suite.admin.request<{ metadata: { annotations: Record<string, string> } }>({
      method: 'GET',
      path: `/api/v1/namespaces/${suite.namespace}/configmaps/sw-leader`,
    })
  ).body.metadata.annotations.renewTime;
  expect(renewAfter).not.toBe(renewBefore);
  await eventually('replicas see the pause', async () => {
    const bodies = await Promise.all(replicas.map(async (r) => JSON.parse((await cluster.api(r, 'GET', '/patroni')).text) as { pause?: boolean }));
    return bodies.every((b) => b.pause === true) ? true : undefined;
  });
  const pgPid = await cluster.postmasterPid(primary);
  const dead = cluster.agent(primary);
  dead.signal('SIGKILL');
  await dead.exited;
  if (pgPid !== undefined) await killAndWait(pgPid);
  // Past the lock's ttl, with time to spare: nobody takes over in pause.
  await sleep(10_000 + 4_000);
  for (const r of replicas) expect(cluster.agent(r).lines.filter((l) => l.msg === 'acquired the lock' && Date.parse(l.ts) > Date.now() - 14_000)).toEqual([]);
  expect((await cluster.tryQuery(replicas[0]!, 'SELECT pg_is_in_recovery() AS r'))?.[0]?.r).toBe(true);
  const resumed = await cluster.api(replicas[0]!, 'PATCH', '/config', { pause: null });
  expect(resumed.status).toBe(200);
  const next = await cluster.writablePrimary(30_000, primary);
  expect(replicas).toContain(next);
  cluster.start(primary);
  await cluster.streaming(primary, 90_000);
  expectNoOverlap(cluster.all);
});
