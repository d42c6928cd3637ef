// Lowering ttl in the dynamic configuration while the leader is cut off from the API: every member times the lock
// by the ttl written in it, and the leader its lease by the ttl it wrote, so the old primary stops before anyone
// may take over, whichever ttl its last write carried.
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { STRATEGIC_MERGE_PATCH } from '../../../agent/src/kube/kube-client';
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
  ns = await createTestNamespace(admin, 'ha-ttl');
  const dir = workDir('ha-ttl');
  const kubeconfig = writeKubeconfig(dir, 'admin', cp.state.server, cp.state.caFile, cp.state.adminToken);
  proxy = await TcpProxy.start(cp.state.server);
  const viaProxy = writeKubeconfig(dir, 'proxied', proxy.url, cp.state.caFile, cp.state.adminToken);
  agentBuild();
  cluster = await HaCluster.create({ admin, namespace: ns.name, scope: 'ttl', kubeconfig, size: 3, ttl: 30, kubeconfigFor: (name) => (name === 'ttl-0' ? viaProxy : kubeconfig) });
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  await proxy?.close();
  await ns?.delete();
  admin?.close();
});

const at = (ts: string | undefined) => (ts ? Date.parse(ts) : Number.NaN);

it('ttl lowered from 30 to 10 and the leader cut off at once: the old primary stops before another member takes the lock', async () => {
  const old = cluster.start('ttl-0');
  expect(await cluster.writablePrimary(120_000)).toBe('ttl-0');
  cluster.start('ttl-1');
  cluster.start('ttl-2');
  await cluster.streaming('ttl-1', 90_000);
  await cluster.streaming('ttl-2', 90_000);

  const cfg = await admin.request<{ metadata: { annotations?: Record<string, string> } }>({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/configmaps/ttl-config` });
  const config = { ...JSON.parse(cfg.body.metadata.annotations?.config ?? '{}'), ttl: 10 };
  await admin.request({ method: 'PATCH', path: `/api/v1/namespaces/${ns.name}/configmaps/ttl-config`, contentType: STRATEGIC_MERGE_PATCH, body: { metadata: { annotations: { config: JSON.stringify(config) } } } });
  proxy.freeze();

  const fenced = await old.waitFor('postgres stopped on leadership loss', (l) => l.msg === 'leadership lost while running as a primary; stopping postgres now', 60_000);
  const next = await cluster.writablePrimary(90_000, 'ttl-0');
  const acquired = cluster.agent(next).lines.filter((l) => l.msg === 'acquired the lock').at(-1);
  expect(at(fenced.ts)).toBeLessThan(at(acquired?.ts));
  const stopped = old.lines.find((l) => l.msg === 'postgres stopped' && at(l.ts) >= at(fenced.ts));
  expect(at(stopped?.ts)).toBeLessThan(at(acquired?.ts));
  expectNoOverlap(cluster.all);
  await proxy.restore();
  await cluster.streaming('ttl-0', 120_000);
});
