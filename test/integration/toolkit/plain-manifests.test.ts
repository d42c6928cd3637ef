// The plain manifests (dist/) on a real kube-apiserver with Pod Security `restricted` enforced and warned.
import { App, Chart } from 'cdk8s';
import { Persistence, Platform, PostgresCluster, StoreMode, type PostgresClusterProps } from '../../../constructs';
import { buildApp } from '../../../src/app';
import { eventually } from '../../fixtures/cluster';
import { createLabelledPod, podsSelectedBy, serverSideApply, storedNetworkPolicy, warningsOf, type Manifest, toolkitSuite } from './apply';

function clusterManifests(props: PostgresClusterProps, id = 'pg'): Manifest[] {
  const chart = new Chart(new App(), 'c', { disableResourceNameHashes: true });
  new PostgresCluster(chart, id, props);
  return chart.toJson() as Manifest[];
}

describe('plain manifests on a restricted namespace', () => {
  const suite = toolkitSuite();
  const restrictedNamespace = (prefix: string) => suite.restrictedNamespace(prefix);

  const app: App = buildApp('unused');
  it.each(app.charts.map((c) => [c.node.id, c] as const))('dist/%s.k8s.yaml passes a server-side dry run with no warnings', async (_id, chart) => {
    const ns = await restrictedNamespace('tk-dry');
    const results = await serverSideApply(suite.admin, ns, chart.toJson() as Manifest[], { dryRun: true });
    expect(results.length).toBeGreaterThan(5);
    expect(warningsOf(results)).toEqual({});
  });

  it.each([
    ['Endpoints mode', { storeMode: StoreMode.ENDPOINTS }],
    ['OpenShift platform', { platform: Platform.OPENSHIFT }],
    ['ephemeral storage', { persistence: Persistence.EPHEMERAL }],
  ] as const)('the %s variant passes a server-side dry run with no warnings', async (_name, props) => {
    const ns = await restrictedNamespace('tk-var');
    expect(warningsOf(await serverSideApply(suite.admin, ns, clusterManifests(props), { dryRun: true }))).toEqual({});
  });

  it('is refused by the enforcing namespace when the Pod template drops the restricted settings (the check can fail)', async () => {
    const ns = await restrictedNamespace('tk-neg');
    const manifests = clusterManifests({});
    const sts = manifests.find((m) => m.kind === 'StatefulSet') as any;
    delete sts.spec.template.spec.containers[0].securityContext.capabilities;
    const results = await serverSideApply(suite.admin, ns, [sts], { dryRun: true });
    expect(JSON.stringify(warningsOf(results))).toContain('capabilities');
  });

  it('applied for real, lets the StatefulSet controller create every Pod with no FailedCreate', async () => {
    const ns = await restrictedNamespace('tk-real');
    const manifests = clusterManifests({ replicas: 3, persistence: Persistence.EPHEMERAL });
    expect(warningsOf(await serverSideApply(suite.admin, ns, manifests, { dryRun: false }))).toEqual({});
    const pods = await eventually(
      'three Pods from the StatefulSet',
      async () => {
        const res = await suite.admin.request<{ items: { metadata: { name: string; labels: Record<string, string> } }[] }>({
          method: 'GET',
          path: `/api/v1/namespaces/${ns}/pods`,
          query: { labelSelector: 'app.kubernetes.io/name=pgha,cluster-name=pg' },
        });
        return res.body.items.length === 3 ? res.body.items : undefined;
      },
      60_000,
    );
    expect(pods.map((p) => p.metadata.name).sort()).toEqual(['pg-0', 'pg-1', 'pg-2']);
    // Events are recorded asynchronously after the Pods exist: wait for the controller's three, then look for failures.
    const events = await eventually(
      "the StatefulSet controller's SuccessfulCreate events",
      async () => {
        const res = await suite.admin.request<{ items: { reason: string; message: string }[] }>({ method: 'GET', path: `/api/v1/namespaces/${ns}/events` });
        return res.body.items.filter((e) => e.reason === 'SuccessfulCreate').length >= 3 ? res.body.items : undefined;
      },
      60_000,
    );
    expect(events.filter((e) => e.reason === 'FailedCreate')).toEqual([]);
  });

  it("the NetworkPolicy is accepted and selects exactly its cluster's members; its client rule selects the Pods carrying clientPodLabels", async () => {
    const ns = await restrictedNamespace('tk-np');
    const build = (id: string, replicas: number) => {
      const chart = new Chart(new App(), 'c', { disableResourceNameHashes: true });
      const pg = new PostgresCluster(chart, id, { replicas, persistence: Persistence.EPHEMERAL });
      return { pg, manifests: chart.toJson() as Manifest[] };
    };
    const pg = build('pg', 2);
    const other = build('other', 1);
    // Another cluster in the same namespace, and a client of each.
    for (const c of [pg, other]) expect(warningsOf(await serverSideApply(suite.admin, ns, c.manifests, { dryRun: false }))).toEqual({});
    await createLabelledPod(suite.admin, ns, 'pg-client', pg.pg.clientPodLabels);
    await createLabelledPod(suite.admin, ns, 'other-client', other.pg.clientPodLabels);
    await eventually(
      'three members',
      async () => ((await podsSelectedBy(suite.admin, ns, { 'app.kubernetes.io/name': 'pgha' })).length === 3 ? true : undefined),
      60_000,
    );
    const policy = await storedNetworkPolicy(suite.admin, ns, pg.pg.networkPolicyName!);
    expect(await podsSelectedBy(suite.admin, ns, policy.spec.podSelector.matchLabels)).toEqual(['pg-0', 'pg-1']);
    expect(await podsSelectedBy(suite.admin, ns, policy.spec.ingress[0]!.from[0]!.podSelector.matchLabels)).toEqual(['pg-0', 'pg-1']);
    expect(await podsSelectedBy(suite.admin, ns, policy.spec.ingress[1]!.from[0]!.podSelector.matchLabels)).toEqual(['pg-client']);
    expect(await podsSelectedBy(suite.admin, ns, (await storedNetworkPolicy(suite.admin, ns, 'other')).spec.podSelector.matchLabels)).toEqual(['other-0']);
  });

  it('applied for real with persistent storage, creates the Pods and one claim per member', async () => {
    const ns = await restrictedNamespace('tk-pvc');
    await serverSideApply(suite.admin, ns, clusterManifests({ replicas: 2 }), { dryRun: false });
    await eventually(
      'two Pods and two claims',
      async () => {
        const pods = await suite.admin.request<{ items: unknown[] }>({ method: 'GET', path: `/api/v1/namespaces/${ns}/pods` });
        const pvcs = await suite.admin.request<{ items: { metadata: { name: string } }[] }>({
          method: 'GET',
          path: `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
        });
        return pods.body.items.length === 2 && pvcs.body.items.length === 2 ? true : undefined;
      },
      60_000,
    );
    const events = await suite.admin.request<{ items: { reason: string }[] }>({ method: 'GET', path: `/api/v1/namespaces/${ns}/events` });
    expect(events.body.items.filter((e) => e.reason === 'FailedCreate')).toEqual([]);
  });
});
