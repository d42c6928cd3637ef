// Failsafe mode on real agents and PostgreSQL: a leader that cannot reach the API goes on accepting writes while
// every member promises to stay out (POST /failsafe), nobody else takes the lock meanwhile, and a member that
// cannot answer ends it: the leader is fenced before anyone takes over.
import { TcpProxy, expectNoOverlap } from '../agent/harness';
import { type HaCluster, PASSWORD, startLeaderFirst } from './ha-harness';
import { Writer } from '../../fixtures/writer';
import { haSuite } from '../suite';
import { eventually } from '../../fixtures/cluster';

jest.setTimeout(300_000);
const suite = haSuite('ha-fs');
const TTL = 10;

/** The failsafe topology the leader wrote into the lock. */
async function topology(scope: string): Promise<Record<string, string> | undefined> {
  const text = (await suite.readLock(scope))?.metadata.annotations?.failsafe;
  return text ? (JSON.parse(text) as Record<string, string>) : undefined;
}

/** `failsafe_mode_is_active` in the member's `GET /patroni` (Patroni leaves it out when false). */
async function failsafeActive(cluster: HaCluster, name: string): Promise<boolean> {
  const res = await cluster.api(name, 'GET', '/patroni');
  return (JSON.parse(res.text) as { failsafe_mode_is_active?: boolean }).failsafe_mode_is_active === true;
}

/** A writer on `name` (10 commits a second) that records every acknowledged commit. */
async function startWriter(cluster: HaCluster, name: string): Promise<Writer> {
  const w = new Writer({ host: '127.0.0.1', port: cluster.member(name).pgPort, user: 'postgres', password: PASSWORD }, { pauseMs: 100 });
  await w.prepare();
  w.start();
  return w;
}

/** Every commit the writer saw acknowledged is in the table on `name`. */
async function expectNoAckedLoss(cluster: HaCluster, name: string, w: Writer): Promise<void> {
  const rows = await cluster.query<{ id: string }>(name, 'SELECT id FROM pgha_writes');
  const stored = new Set(rows.map((r) => Number(r.id)));
  expect(w.acks.filter((a) => !stored.has(a.id))).toEqual([]);
}

it('a leader cut off from the API with every member keeps accepting writes on their promises, and renews after', async () => {
  const scope = 'all';
  const proxies = await Promise.all([0, 1, 2].map(() => TcpProxy.start(suite.cp.state.server)));
  suite.onTeardown(async () => {
    await Promise.all(proxies.map((p) => p.close()));
  });
  const kubeconfigs = proxies.map((p, i) => suite.kubeconfigFor(`${scope}-${i}-proxied`, p.url));
  const cluster = await suite.createCluster({
    scope,
    size: 3,
    ttl: TTL,
    dcs: { failsafe_mode: true },
    kubeconfigFor: (name) => kubeconfigs[Number(name.slice(-1))]!,
  });
  const leader = await startLeaderFirst(cluster);
  await eventually('every member in the failsafe topology', async () => (Object.keys((await topology(scope)) ?? {}).length === 3 ? true : undefined), 60_000);
  const fsGet = await cluster.api(`${scope}-1`, 'GET', '/failsafe');
  expect(fsGet.status).toBe(200);
  expect(Object.keys(JSON.parse(fsGet.text) as object).sort()).toEqual([`${scope}-0`, `${scope}-1`, `${scope}-2`]);

  const writer = await startWriter(cluster, `${scope}-0`);
  for (const p of proxies) p.freeze();
  const cutAt = performance.now();
  await leader.waitFor('leading on failsafe', (l) => l.msg === 'leading on failsafe promises: the API cannot be reached', 30_000);
  expect(await failsafeActive(cluster, `${scope}-0`)).toBe(true);
  // Three ttls without the API, writing all along: without failsafe mode the leader would be fenced within one.
  await eventually('commits acknowledged three ttls after the cut', async () => (writer.ackedAfter(cutAt + 3 * TTL * 1000) ? true : undefined), 60_000);
  expect(leader.lines.some((l) => l.msg === 'stopped acting as leader')).toBe(false);
  for (const name of [`${scope}-1`, `${scope}-2`])
    expect(cluster.agent(name).lines.some((l) => l.msg === 'promised the failsafe leader to stay out')).toBe(true);

  await Promise.all(proxies.map((p) => p.restore()));
  await leader.waitFor('renewed through the API again', (l) => l.msg === 'renewed the lock; no longer leading on failsafe promises', 60_000);
  expect(await failsafeActive(cluster, `${scope}-0`)).toBe(false);
  await writer.stop();
  expect(await cluster.holder()).toBe(`${scope}-0`);
  await expectNoAckedLoss(cluster, `${scope}-0`, writer);
  expectNoOverlap(cluster.all);
});

it('a leader cut off from the API alone keeps the others out while they promise; one member frozen ends it, fenced before the takeover', async () => {
  const { cluster, proxy } = await suite.createProxiedCluster({ scope: 'one', size: 3, ttl: TTL, dcs: { failsafe_mode: true } });
  const leader = await startLeaderFirst(cluster);
  await eventually('every member in the failsafe topology', async () => (Object.keys((await topology('one')) ?? {}).length === 3 ? true : undefined), 60_000);

  const writer = await startWriter(cluster, 'one-0');
  proxy.freeze();
  const cutAt = performance.now();
  await leader.waitFor('leading on failsafe', (l) => l.msg === 'leading on failsafe promises: the API cannot be reached', 30_000);
  // The others see the lock expire after one ttl, but they promised: the lock stays the old leader's.
  await eventually('commits acknowledged three ttls after the cut', async () => (writer.ackedAfter(cutAt + 3 * TTL * 1000) ? true : undefined), 60_000);
  await writer.stop();
  expect(leader.lines.some((l) => l.msg === 'stopped acting as leader')).toBe(false);
  expect(await cluster.holder()).toBe('one-0');
  for (const name of ['one-1', 'one-2'])
    expect(cluster.agent(name).lines.some((l) => l.msg === 'ha loop' && /promised the failsafe leader to stay out/.test(String(l.reason)))).toBe(true);

  // A member that cannot answer: the next round fails, and the leader is fenced at its deadline.
  const frozen = cluster.agent('one-2');
  frozen.signal('SIGSTOP');
  try {
    const fenced = await leader.waitFor('fenced', (l) => l.msg === 'stopped acting as leader', 30_000);
    const next = await cluster.writablePrimary(90_000, 'one-0');
    expect(next).toBe('one-1');
    const acquired = cluster
      .agent(next)
      .lines.filter((l) => l.msg === 'acquired the lock')
      .at(-1)!;
    expect(Date.parse(fenced.ts)).toBeLessThan(Date.parse(acquired.ts));
    expect(await cluster.tryQuery('one-0', 'INSERT INTO pgha_writes (writer) VALUES (1)')).toBeUndefined();
  } finally {
    frozen.signal('SIGCONT');
  }
  await proxy.restore();
  await cluster.streaming('one-0', 120_000);
  expectNoOverlap(cluster.all);
});
