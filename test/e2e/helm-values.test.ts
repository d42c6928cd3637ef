// The chart's Pod and Service values on the real node: a release installed with nodeSelector (the node's own
// hostname label), a toleration, Pod annotations and labels, extra environment and Service annotations, and a
// PodMonitor (the Prometheus Operator's CRD installed first). The running Pods and the Services carry them, the
// PodMonitor's endpoint answers with the agent's metrics, and the cluster becomes whole and takes writes through the
// primary Service.
import { podMonitorCrd } from '../integration/toolkit/tools';
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

it('a Helm release with nodeSelector, tolerations, podAnnotations, podLabels, extraEnv, service.annotations and a PodMonitor', async () => {
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
    metrics: { podMonitor: { enabled: true, labels: { release: 'prometheus' } } },
  };
  await session.cluster.kubectl(['apply', '--server-side', '-f', podMonitorCrd()]);
  session.onCleanup(() => session.cluster.kubectl(['delete', 'crd', 'podmonitors.monitoring.coreos.com', '--ignore-not-found']));
  await session.cluster.kubectl(['wait', '--for=condition=Established', 'crd/podmonitors.monitoring.coreos.com', '--timeout=60s']);
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

  // The PodMonitor selects both members; the port it names serves the agent's metrics (what Prometheus would scrape).
  const monitor = JSON.parse(await session.cluster.kubectl(['get', 'podmonitor', 'valued', '-n', ns, '-o', 'json'])) as {
    metadata: { labels: Record<string, string> };
    spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string }[] };
  };
  expect(monitor.metadata.labels).toMatchObject({ release: 'prometheus' });
  const selector = Object.entries(monitor.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`);
  const scraped = JSON.parse(await session.cluster.kubectl(['get', 'pods', '-n', ns, '-l', selector.join(','), '-o', 'json'])) as {
    items: { metadata: { name: string }; spec: { containers: { ports: { name: string; containerPort: number }[] }[] } }[];
  };
  expect(scraped.items.map((p) => p.metadata.name).sort()).toEqual(['valued-0', 'valued-1']);
  const [endpoint] = monitor.spec.podMetricsEndpoints;
  for (const p of scraped.items) {
    expect(p.spec.containers[0]!.ports.find((x) => x.name === endpoint!.port)?.containerPort).toBe(8008);
    const metrics = await c.api(p.metadata.name, 'GET', endpoint!.path, { auth: false });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(new RegExp(`^patroni_primary\\{[^}]*\\} ${p.metadata.name === holder ? 1 : 0}$`, 'm'));
  }

  // Whole and writable through the primary Service, with a replica streaming.
  const primary = await c.target();
  await c.sql(primary, 'CREATE TABLE e2e_values (note text)');
  await c.sql(primary, "INSERT INTO e2e_values VALUES ('through the primary Service')");
  expect(await c.sql(primary, 'SELECT count(*)::int AS n FROM e2e_values')).toEqual([{ n: 1 }]);
  await c.healthy();
}, 300_000);
