// Proof that the test control plane is the real thing: optimistic concurrency, RBAC with real service-account
// tokens, and Pod Security admission behave as they do in a production cluster.
import { MERGE_PATCH, STRATEGIC_MERGE_PATCH, type KubeClient } from '../../agent/src/kube/kube-client';
import { apiError, createTestNamespace, eventually, mintServiceAccountToken, testControlPlane, type TestNamespace } from '../fixtures/cluster';

interface ConfigMap {
  metadata: { name: string; resourceVersion: string; annotations?: Record<string, string> };
}

const cp = testControlPlane();
let admin: KubeClient;
let ns: TestNamespace;

beforeAll(async () => {
  admin = cp.adminClient();
  ns = await createTestNamespace(admin, 'proof');
});
afterAll(async () => {
  await ns.delete();
  admin.close();
});

const cmPath = (name: string) => `/api/v1/namespaces/${ns.name}/configmaps/${name}`;

async function createConfigMap(name: string): Promise<ConfigMap> {
  const res = await admin.request<ConfigMap>({
    method: 'POST',
    path: `/api/v1/namespaces/${ns.name}/configmaps`,
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, annotations: { leader: 'a' } } },
  });
  return res.body;
}

describe.each([
  ['merge patch', MERGE_PATCH],
  ['strategic-merge patch', STRATEGIC_MERGE_PATCH],
])('a %s that carries metadata.resourceVersion', (label, contentType) => {
  const name = `cas-${label.startsWith('merge') ? 'merge' : 'smp'}`;

  it('is rejected with 409 Conflict when the version is stale, and applied when it is fresh', async () => {
    const created = await createConfigMap(name);
    const stale = created.metadata.resourceVersion;
    const first = await admin.request<ConfigMap>({
      method: 'PATCH',
      path: cmPath(name),
      contentType,
      body: { metadata: { resourceVersion: stale, annotations: { leader: 'b' } } },
    });
    expect(first.body.metadata.annotations?.leader).toBe('b');
    expect(first.body.metadata.resourceVersion).not.toBe(stale);

    const conflict = await apiError(() =>
      admin.request({ method: 'PATCH', path: cmPath(name), contentType, body: { metadata: { resourceVersion: stale, annotations: { leader: 'c' } } } }),
    );
    expect(conflict.status).toBe(409);
    const current = await admin.request<ConfigMap>({ method: 'GET', path: cmPath(name) });
    expect(current.body.metadata.annotations?.leader).toBe('b');

    const fresh = await admin.request<ConfigMap>({
      method: 'PATCH',
      path: cmPath(name),
      contentType,
      body: { metadata: { resourceVersion: current.body.metadata.resourceVersion, annotations: { leader: 'c' } } },
    });
    expect(fresh.body.metadata.annotations?.leader).toBe('c');
  });
});

describe('RBAC with a real service-account token', () => {
  it('forbids patching a ConfigMap without a Role and allows it once a Role and RoleBinding grant it', async () => {
    await createConfigMap('rbac-target');
    await admin.request({ method: 'POST', path: `/api/v1/namespaces/${ns.name}/serviceaccounts`, body: { metadata: { name: 'agent' } } });
    const token = await mintServiceAccountToken(admin, ns.name, 'agent');
    const asAgent = cp.clientWithToken(token);
    const patch = () =>
      asAgent.request({ method: 'PATCH', path: cmPath('rbac-target'), contentType: MERGE_PATCH, body: { metadata: { annotations: { leader: 'agent' } } } });
    try {
      const denied = await apiError(patch);
      expect(denied.status).toBe(403);

      await admin.request({
        method: 'POST',
        path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns.name}/roles`,
        body: { metadata: { name: 'agent' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'patch'] }] },
      });
      await admin.request({
        method: 'POST',
        path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns.name}/rolebindings`,
        body: {
          metadata: { name: 'agent' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'agent' },
          subjects: [{ kind: 'ServiceAccount', name: 'agent', namespace: ns.name }],
        },
      });
      // The authorizer reads RBAC objects from an informer, so the grant takes effect after a short delay.
      const allowed = await eventually('the RoleBinding to take effect', async () => (await patch()).status);
      expect(allowed).toBe(200);
      // The Role grants patch on configmaps only: deleting stays forbidden.
      const stillDenied = await apiError(() => asAgent.request({ method: 'DELETE', path: cmPath('rbac-target') }));
      expect(stillDenied.status).toBe(403);
    } finally {
      asAgent.close();
    }
  });
});

describe('Pod Security admission', () => {
  let restricted: TestNamespace;
  beforeAll(async () => {
    restricted = await createTestNamespace(admin, 'psa', { restricted: true });
  });
  afterAll(() => restricted.delete());

  const pod = (name: string, securityContext: object, containerSecurityContext: object) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { securityContext, containers: [{ name: 'c', image: 'example.invalid/none:1', securityContext: containerSecurityContext }] },
  });

  it.each([
    ['a privileged container', {}, { privileged: true }],
    ['no security context at all', {}, {}],
    ['every setting but the dropped capabilities', { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, { allowPrivilegeEscalation: false }],
  ])('rejects a Pod with %s in a namespace that enforces restricted', async (_label, podSc, containerSc) => {
    const err = await apiError(() =>
      admin.request({
        method: 'POST',
        path: `/api/v1/namespaces/${restricted.name}/pods`,
        body: pod(`bad-${Math.random().toString(36).slice(2, 8)}`, podSc, containerSc),
      }),
    );
    expect(err.status).toBe(403);
    expect(err.reason).toMatch(/violates PodSecurity "restricted:latest"/);
  });

  it('admits a Pod that meets restricted', async () => {
    const res = await admin.request({
      method: 'POST',
      path: `/api/v1/namespaces/${restricted.name}/pods`,
      body: pod(
        'compliant',
        { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      ),
    });
    expect(res.status).toBe(201);
  });
});
