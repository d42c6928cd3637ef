// A primary cut off from the API server stops accepting writes before its lock can expire anywhere else; another
// member takes over, and the old primary rejoins as a replica once it can reach the API again.
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { createTestNamespace, testControlPlane, type TestNamespace } from '../../fixtures/cluster';
import { agentBuild, expectNoOverlap, TcpProxy, workDir, writeKubeconfig } from '../agent/harness';
import { HaCluster } from './ha-harness';

jest.setTimeout(300_000);
const cp = testControlPlane();
let admin: KubeClient;
let ns: TestNamespace;
let cluster: HaCluster;
let proxy: TcpProxy;

beforeAll(async () => {
  admin = cp.adminClient();
  ns = await createTestNamespace(admin, 'ha-part');
  const dir = workDir('ha-part');
  const kubeconfig = writeKubeconfig(dir, 'admin', cp.state.server, cp.state.caFile, cp.state.adminToken);
  proxy = await TcpProxy.start(cp.state.server);
  const viaProxy = writeKubeconfig(dir, 'proxied', proxy.url, cp.state.caFile, cp.state.adminToken);
  agentBuild();
  cluster = await HaCluster.create({ admin, namespace: ns.name, scope: 'part', kubeconfig, size: 3, ttl: 10, kubeconfigFor: (name) => (name === 'part-0' ? viaProxy : kubeconfig) });
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  await proxy?.close();
  await ns?.delete();
  admin?.close();
});

const at = (ts: string | undefined) => (ts ? Date.parse(ts) : Number.NaN);

it('the cut-off primary stops Postgres before another member acquires the lock; it rejoins afterwards', async () => {
  const old = cluster.start('part-0');
  expect(await cluster.writablePrimary(120_000)).toBe('part-0');
  cluster.start('part-1');
  cluster.start('part-2');
  await cluster.streaming('part-1', 90_000);
  await cluster.streaming('part-2', 90_000);
  await cluster.query('part-0', 'CREATE TABLE t (v int)');
  await cluster.query('part-0', 'INSERT INTO t VALUES (1)');

  proxy.freeze();
  const fenced = await old.waitFor('postgres stopped on leadership loss', (l) => l.msg === 'leadership lost while running as a primary; stopping postgres now', 30_000);
  const next = await cluster.writablePrimary(60_000, 'part-0');
  const acquired = cluster.agent(next).lines.filter((l) => l.msg === 'acquired the lock').at(-1);
  // The old primary was fenced before the new one took the lock (local clocks of one machine).
  expect(at(fenced.ts)).toBeLessThan(at(acquired?.ts));
  const stopped = old.lines.find((l) => l.msg === 'postgres stopped' && at(l.ts) >= at(fenced.ts));
  expect(stopped).toBeDefined();
  expect(at(stopped!.ts)).toBeLessThan(at(acquired?.ts));
  // It accepts no writes any more.
  const write = await cluster.tryQuery('part-0', 'INSERT INTO t VALUES (2)');
  expect(write).toBeUndefined();
  expect(await cluster.query(next, 'SELECT v FROM t')).toEqual([{ v: 1 }]);

  await proxy.restore();
  await cluster.streaming('part-0', 120_000);
  expect(await cluster.holder()).toBe(next);
  expectNoOverlap(cluster.all);
});
