// Three real nodes (each with its own kubelet, containerd, kube-proxy and network namespace): members spread over
// them as the anti-affinity asks, a drain through the Eviction API is held back exactly as the PodDisruptionBudget
// says, and the loss of the primary's whole node (every process on it stopped at once, its link cut) ends with a
// replica on another node taking writes.
import { KubeApiError } from '../../agent/src/kube/kube-error';
import { createTestNamespace, eventually } from '../fixtures/cluster';
import { buildImage } from '../fixtures/agent-image';
import { lostAcks, Writer } from '../fixtures/writer';
import { RealCluster } from '../node/real-cluster';
import { ClusterUnderTest } from './support/cluster-under-test';
import { deployFast, FAST } from './support/faults';
import { report } from './support/e2e-cluster';

jest.setTimeout(600_000);
let cluster: RealCluster;
let c: ClusterUnderTest;

beforeAll(async () => {
  cluster = await RealCluster.start({ nodes: 3, images: [process.env.PGHA_E2E_IMAGE_ARCHIVE ?? buildImage().archive] });
  const admin = cluster.adminClient();
  const ns = await createTestNamespace(admin, 'e2e-nodes', { restricted: true });
  const d = await deployFast(cluster, ns.name);
  c = new ClusterUnderTest(cluster, admin, d);
  await c.healthy(300_000);
}, 600_000);

afterAll(async () => {
  await c?.close();
  c?.admin.close();
  await cluster?.stop({ keepDir: Boolean(process.env.PGHA_KEEP_CLUSTER_DIR) });
});

async function evict(pod: string): Promise<number> {
  try {
    await c.admin.request({
      method: 'POST',
      path: `/api/v1/namespaces/${c.namespace}/pods/${pod}/eviction`,
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: c.namespace } },
    });
    return 201;
  } catch (err) {
    if (err instanceof KubeApiError) return err.status;
    throw err;
  }
}

it('spreads the members over the three nodes (preferred anti-affinity)', async () => {
  const pods = await c.pods();
  expect(new Set(pods.map((p) => p.node)).size).toBe(3);
});

it('a drain is held back by the PodDisruptionBudget: one member at a time (maxUnavailable 1)', async () => {
  await c.healthy();
  const pods = await c.pods();
  const replicas = pods.filter((p) => p.role === c.d.followerLabelValue);
  await cluster.kubectl(['cordon', replicas[0]!.node!]);
  try {
    expect(await evict(replicas[0]!.name)).toBe(201);
    // While that member is down, the budget allows no second disruption.
    expect(await evict(replicas[1]!.name)).toBe(429);
    // The evicted member comes back on another node (its volume follows), and the budget allows one again.
    await c.healthy(300_000);
    const moved = (await c.pods()).find((p) => p.name === replicas[0]!.name)!;
    expect(moved.node).not.toBe(replicas[0]!.node);
  } finally {
    await cluster.kubectl(['uncordon', replicas[0]!.node!]);
  }
});

it("the primary's node lost at once: a replica on another node takes writes", async () => {
  const old = await c.healthy();
  const oldPod = (await c.pods()).find((p) => p.name === old)!;
  const target = await c.target();
  const writer = new Writer(target, { table: 'node_loss' });
  await writer.prepare();
  writer.start();
  await eventually('writes flowing', async () => (writer.acks.length > 10 ? true : undefined), 30_000, 50);
  const t0 = performance.now();
  cluster.loseNode(cluster.nodeIndex(oldPod.node!));
  const next = await eventually(
    'another member taking writes',
    async () => {
      const h = await c.holder();
      const ip = h && h !== old ? (await c.pods()).find((p) => p.name === h)?.ip : undefined;
      return ip && writer.acksBy(ip, t0).length > 0 ? { name: h!, ip } : undefined;
    },
    120_000,
    100,
  );
  await writer.stop();
  // The primary Service routes to the new primary only (the lost Pod is still Ready in the API: its node cannot
  // report otherwise for a while).
  const endpoints = await eventually(
    'the primary Service routing to the new primary only',
    async () => {
      const res = await c.admin.request<{ items: { endpoints?: { addresses: string[] }[] }[] }>({
        method: 'GET',
        path: `/apis/discovery.k8s.io/v1/namespaces/${c.namespace}/endpointslices`,
        query: { labelSelector: `kubernetes.io/service-name=${c.d.primaryService}` },
      });
      const ips = res.body.items.flatMap((s) => (s.endpoints ?? []).flatMap((e) => e.addresses));
      return ips.length === 1 && ips[0] === next.ip ? ips : undefined;
    },
    60_000,
    200,
  );
  expect(endpoints).toEqual([next.ip]);
  const pods = await c.pods();
  expect(pods.find((p) => p.name === next.name)!.node).not.toBe(oldPod.node);
  // The lost Pod still exists (its node cannot confirm anything) but no longer carries the leader label.
  expect(pods.find((p) => p.name === old)?.role).not.toBe(c.d.leaderLabelValue);
  const lost = await lostAcks(target, 'node_loss', [writer]);
  report('node-lost', { outageMs: Math.round(writer.outageAfter(t0)), acked: writer.acks.length, lost: lost.length, ttlMs: FAST.ttl * 1000 });
});
