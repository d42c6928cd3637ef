// The generated ServiceAccount, with a real TokenRequest token, can do what agent/src/kube/rbac-rules.ts lists and
// nothing more: no Secrets, no verbs beyond the list, nothing in another cluster's namespace.
import { App, Chart } from 'cdk8s';
import { KubeClient } from '../../../agent/src/kube/kube-client';
import { agentRoleRules } from '../../../agent/src/kube/rbac-rules';
import { ClusterCredentials, Persistence, PostgresCluster, StoreMode } from '../../../constructs';
import { apiError, createTestNamespace, eventually, mintServiceAccountToken, testControlPlane, type TestNamespace } from '../../fixtures/cluster';
import { grantControllerRoles, serverSideApply, type Manifest } from './apply';

const ALL_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

function manifests(name: string, storeMode: StoreMode): Manifest[] {
  const chart = new Chart(new App(), 'c', { disableResourceNameHashes: true });
  new PostgresCluster(chart, name, {
    storeMode,
    replicas: 1,
    persistence: Persistence.EPHEMERAL,
    credentials: ClusterCredentials.fromPasswords({ superuser: 'su-secret', replication: 'repl-secret', restApi: 'api-secret' }),
  });
  return chart.toJson() as Manifest[];
}

describe.each([StoreMode.CONFIG_MAPS, StoreMode.ENDPOINTS])('agent ServiceAccount in %s mode', (storeMode) => {
  let admin: KubeClient;
  let agent: KubeClient;
  let ns: TestNamespace;
  let other: TestNamespace;
  const rules = agentRoleRules({ useEndpoints: storeMode === StoreMode.ENDPOINTS });

  beforeAll(async () => {
    const cp = testControlPlane();
    admin = cp.adminClient();
    await grantControllerRoles(admin);
    ns = await createTestNamespace(admin, 'tk-rbac', { restricted: true });
    other = await createTestNamespace(admin, 'tk-other', { restricted: true });
    await serverSideApply(admin, ns.name, manifests('alpha', storeMode), { dryRun: false });
    await serverSideApply(admin, other.name, manifests('beta', storeMode), { dryRun: false });
    agent = cp.clientWithToken(await mintServiceAccountToken(admin, ns.name, 'alpha'));
    await eventually(
      'Pod alpha-0',
      async () => (await admin.request({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/pods/alpha-0` })).status === 200 || undefined,
    );
  });
  afterAll(async () => {
    agent?.close();
    await ns?.delete();
    await other?.delete();
    admin?.close();
  });

  async function allowed(namespace: string, verb: string, resource: string, group = ''): Promise<boolean> {
    const res = await agent.request<{ status: { allowed: boolean } }>({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace, verb, resource, group } } },
    });
    return res.body.status.allowed;
  }

  it('is allowed exactly the listed verbs on the listed resources in its own namespace', async () => {
    for (const rule of rules) {
      for (const resource of rule.resources) {
        for (const verb of ALL_VERBS) {
          expect([resource, verb, await allowed(ns.name, verb, resource)]).toEqual([resource, verb, rule.verbs.includes(verb)]);
        }
      }
    }
  });

  it('cannot read or list Secrets, not even its own credentials', async () => {
    expect(await allowed(ns.name, 'get', 'secrets')).toBe(false);
    expect((await apiError(() => agent.request({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/secrets/alpha-credentials` }))).status).toBe(403);
    expect((await apiError(() => agent.request({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/secrets` }))).status).toBe(403);
  });

  it("performs the agent's real calls: list and watch-ready reads, create and patch its lock object, label its Pod", async () => {
    const store = storeMode === StoreMode.ENDPOINTS ? 'endpoints' : 'configmaps';
    const lockName = storeMode === StoreMode.ENDPOINTS ? 'alpha' : 'alpha-leader';
    const selector = 'app.kubernetes.io/name=pgha,cluster-name=alpha';
    await agent.request({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/${store}`, query: { labelSelector: selector } });
    await agent.request({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/pods`, query: { labelSelector: selector } });
    await agent.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns.name}/${store}`,
      body: {
        apiVersion: 'v1',
        kind: storeMode === StoreMode.ENDPOINTS ? 'Endpoints' : 'ConfigMap',
        metadata: { name: lockName, labels: { 'app.kubernetes.io/name': 'pgha', 'cluster-name': 'alpha' }, annotations: { leader: 'alpha-0' } },
      },
    });
    await agent.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${ns.name}/${store}/${lockName}`,
      contentType: 'application/strategic-merge-patch+json',
      body: { metadata: { annotations: { renewTime: '2026-01-01T00:00:00+00:00' } } },
    });
    await agent.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${ns.name}/pods/alpha-0`,
      contentType: 'application/strategic-merge-patch+json',
      body: { metadata: { labels: { role: 'primary' }, annotations: { status: '{"state":"running"}' } } },
    });
    if (storeMode === StoreMode.ENDPOINTS) {
      // The agent POSTs its `-config` Service at start; ours already exists, so the answer is 409, not 403.
      const err = await apiError(() =>
        agent.request({
          method: 'POST',
          path: `/api/v1/namespaces/${ns.name}/services`,
          body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'alpha-config' }, spec: { clusterIP: 'None' } },
        }),
      );
      expect(err.status).toBe(409);
    }
  });

  it('can neither delete nor replace its objects, nor touch the cluster in another namespace', async () => {
    const store = storeMode === StoreMode.ENDPOINTS ? 'endpoints' : 'configmaps';
    expect((await apiError(() => agent.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns.name}/pods/alpha-0` }))).status).toBe(403);
    expect((await apiError(() => agent.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns.name}/configmaps/alpha-pgha` }))).status).toBe(403);
    expect((await apiError(() => agent.request({ method: 'GET', path: `/api/v1/namespaces/${other.name}/pods` }))).status).toBe(403);
    expect((await apiError(() => agent.request({ method: 'GET', path: `/api/v1/namespaces/${other.name}/${store}` }))).status).toBe(403);
    expect(
      (
        await apiError(() =>
          agent.request({
            method: 'PATCH',
            path: `/api/v1/namespaces/${other.name}/pods/beta-0`,
            contentType: 'application/strategic-merge-patch+json',
            body: { metadata: { labels: { role: 'primary' } } },
          }),
        )
      ).status,
    ).toBe(403);
    expect((await apiError(() => agent.request({ method: 'GET', path: '/api/v1/namespaces/default/endpoints/kubernetes' }))).status).toBe(403);
  });
});
