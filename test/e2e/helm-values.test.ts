// The chart's Pod and Service values on the real node: a release installed with nodeSelector (the node's own
// hostname label), a toleration, Pod annotations and labels, extra environment and Service annotations. The running
// Pods and the Services carry them, and the cluster becomes whole and takes writes through the primary Service.
import { deployHelm } from './support/deploy';
import { E2eSession } from './support/e2e-cluster';
import { FAST_HELM_VALUES } from './support/faults';

const session = new E2eSession();
afterEach(() => session.cleanup());
afterAll(() => session.close());

interface RawPod {
  metadata: { name: string; labels: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    nodeName?: string;
    nodeSelector?: Record<string, string>;
    tolerations?: Record<string, unknown>[];
    containers: { env: { name: string; value?: string }[] }[];
  };
}

it('a Helm release with nodeSelector, tolerations, podAnnotations, podLabels, extraEnv and service.annotations', async () => {
  const nodes = JSON.parse(await session.cluster.kubectl(['get', 'nodes', '-o', 'json'])) as {
    items: { metadata: { name: string; labels: Record<string, string> } }[];
  };
  expect(nodes.items).toHaveLength(1);
  const node = nodes.items[0]!.metadata;
  const hostname = node.labels['kubernetes.io/hostname']!;
  expect(hostname).toBeTruthy();

  const ns = await session.namespace('e2e-helm-values');
  const toleration = { key: 'example.com/dedicated', operator: 'Equal', value: 'postgres', effect: 'NoSchedule' };
  const values = {
    nodeSelector: { 'kubernetes.io/hostname': hostname },
    tolerations: [toleration],
    podAnnotations: { 'example.com/team': 'databases' },
    podLabels: { 'example.com/tier': 'data' },
    extraEnv: [{ name: 'PGHA_E2E_NOTE', value: 'from extraEnv' }],
    service: { annotations: { 'example.com/exposure': 'internal' } },
  };
  const d = await deployHelm(session.cluster, ns, 'valued', { ...FAST_HELM_VALUES, replicas: '2' }, values);
  const c = session.track(d);
  const holder = await c.healthy();

  const pods = JSON.parse(await session.cluster.kubectl(['get', 'pods', '-n', ns, '-l', 'cluster-name=valued', '-o', 'json'])) as { items: RawPod[] };
  expect(pods.items.map((p) => p.metadata.name).sort()).toEqual(['valued-0', 'valued-1']);
  for (const p of pods.items) {
    expect(p.spec.nodeName).toBe(node.name);
    expect(p.spec.nodeSelector).toEqual({ 'kubernetes.io/hostname': hostname });
    expect(p.spec.tolerations).toContainEqual(toleration);
    expect(p.metadata.annotations).toMatchObject({ 'example.com/team': 'databases' });
    expect(p.metadata.labels).toMatchObject({ 'example.com/tier': 'data', 'app.kubernetes.io/name': 'pgha', 'cluster-name': 'valued' });
    expect(p.spec.containers[0]!.env).toContainEqual({ name: 'PGHA_E2E_NOTE', value: 'from extraEnv' });
  }
  // The variable reaches the running agent's container.
  expect((await c.exec(holder, ['printenv', 'PGHA_E2E_NOTE'])).trim()).toBe('from extraEnv');

  for (const name of ['valued', 'valued-replicas']) {
    const svc = JSON.parse(await session.cluster.kubectl(['get', 'service', name, '-n', ns, '-o', 'json'])) as {
      metadata: { annotations?: Record<string, string>; labels: Record<string, string> };
      spec: { type: string };
    };
    expect(svc.metadata.annotations).toMatchObject({ 'example.com/exposure': 'internal' });
    expect(svc.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': 'pgha-0.1.0' });
    expect(svc.spec.type).toBe('ClusterIP');
  }

  // Whole and writable through the primary Service, with a replica streaming.
  const primary = await c.target();
  await c.sql(primary, 'CREATE TABLE e2e_values (note text)');
  await c.sql(primary, "INSERT INTO e2e_values VALUES ('through the primary Service')");
  expect(await c.sql(primary, 'SELECT count(*)::int AS n FROM e2e_values')).toEqual([{ n: 1 }]);
  await c.healthy();
}, 300_000);
