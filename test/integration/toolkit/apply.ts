import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { createTestNamespace, eventually, testControlPlane, type TestNamespace } from '../../fixtures/cluster';
import { podMonitorCrd } from './tools';

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

/** REST plural and scope of every kind the toolkit synthesizes (and the CRD its PodMonitor needs). */
const RESOURCES: Record<string, { plural: string; namespaced: boolean }> = {
  ServiceAccount: { plural: 'serviceaccounts', namespaced: true },
  ConfigMap: { plural: 'configmaps', namespaced: true },
  Secret: { plural: 'secrets', namespaced: true },
  Service: { plural: 'services', namespaced: true },
  Role: { plural: 'roles', namespaced: true },
  RoleBinding: { plural: 'rolebindings', namespaced: true },
  ClusterRole: { plural: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { plural: 'clusterrolebindings', namespaced: false },
  StatefulSet: { plural: 'statefulsets', namespaced: true },
  PodDisruptionBudget: { plural: 'poddisruptionbudgets', namespaced: true },
  NetworkPolicy: { plural: 'networkpolicies', namespaced: true },
  Pod: { plural: 'pods', namespaced: true },
  CustomResourceDefinition: { plural: 'customresourcedefinitions', namespaced: false },
  PodMonitor: { plural: 'podmonitors', namespaced: true },
};

export function objectPath(m: Manifest, namespace: string): string {
  const r = RESOURCES[m.kind];
  if (!r) throw new Error(`no REST mapping for kind ${m.kind}`);
  const base = m.apiVersion.includes('/') ? `/apis/${m.apiVersion}` : `/api/${m.apiVersion}`;
  return `${base}${r.namespaced ? `/namespaces/${m.metadata.namespace ?? namespace}` : ''}/${r.plural}/${m.metadata.name}`;
}

export interface ApplyResult {
  readonly object: string;
  readonly warnings: readonly string[];
}

/**
 * Server-side applies every manifest into `namespace` (as `kubectl apply --server-side` does), optionally as a dry
 * run, and returns the admission warnings the API server sent for each object.
 */
export async function serverSideApply(
  client: KubeClient,
  namespace: string,
  manifests: readonly Manifest[],
  opts: { dryRun: boolean },
): Promise<ApplyResult[]> {
  const results: ApplyResult[] = [];
  for (const m of manifests) {
    const res = await client.request({
      method: 'PATCH',
      path: objectPath(m, namespace),
      query: { fieldManager: 'pgha-toolkit-test', force: true, ...(opts.dryRun ? { dryRun: 'All' } : {}) },
      contentType: 'application/apply-patch+yaml',
      body: m,
    });
    results.push({ object: `${m.kind}/${m.metadata.name}`, warnings: res.headers?.warning ?? [] });
  }
  return results;
}

/** Objects in `manifests` that drew any warning, with the warnings; empty when all applied cleanly. */
export function warningsOf(results: readonly ApplyResult[]): Record<string, readonly string[]> {
  return Object.fromEntries(results.filter((r) => r.warnings.length > 0).map((r) => [r.object, r.warnings]));
}

/**
 * The shared control plane runs kube-controller-manager under its own identity, without
 * `--use-service-account-credentials`, and the `system:kube-controller-manager` role alone may not create Pods or
 * claims. Binding that user to the per-controller bootstrap roles gives it what each controller's own account would
 * have. Idempotent (server-side apply), so concurrent suites may call it.
 */
export async function grantControllerRoles(admin: KubeClient): Promise<void> {
  const roles = ['statefulset-controller', 'endpointslice-controller', 'endpoint-controller', 'persistent-volume-binder', 'disruption-controller'];
  for (const role of roles) {
    const name = `pgha-test-kcm-${role}`;
    await admin.request({
      method: 'PATCH',
      path: `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`,
      query: { fieldManager: 'pgha-toolkit-test', force: true },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `system:controller:${role}` },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:kube-controller-manager' }],
      },
    });
  }
}

/**
 * The names of the Pods in `namespace` that `matchLabels` selects, as the API server evaluates the selector (a label
 * selector query), sorted.
 */
export async function podsSelectedBy(client: KubeClient, namespace: string, matchLabels: Readonly<Record<string, string>>): Promise<string[]> {
  const labelSelector = Object.entries(matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const res = await client.request<{ items: { metadata: { name: string } }[] }>({
    method: 'GET',
    path: `/api/v1/namespaces/${namespace}/pods`,
    query: { labelSelector },
  });
  return res.body.items.map((p) => p.metadata.name).sort();
}

type PolicySpec = { podSelector: { matchLabels: Record<string, string> }; ingress: { from: { podSelector: { matchLabels: Record<string, string> } }[] }[] };

/** The NetworkPolicy as stored by the API server (so as it was accepted, defaults included). */
export async function storedNetworkPolicy(client: KubeClient, namespace: string, name: string): Promise<{ spec: PolicySpec }> {
  const res = await client.request<{ spec: PolicySpec }>({ method: 'GET', path: `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies/${name}` });
  return res.body;
}

/** A Pod that passes Pod Security `restricted`, carrying `labels` (a client of a cluster); nothing runs it here. */
export async function createLabelledPod(client: KubeClient, namespace: string, name: string, labels: Readonly<Record<string, string>>): Promise<void> {
  await client.request({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/pods`,
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels },
      spec: {
        securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          { name: 'client', image: 'registry.example/client:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } },
        ],
      },
    },
  });
}

/** What a toolkit suite shares: the admin client (controller roles granted) and the restricted namespaces it makes. */
export interface ToolkitSuite {
  readonly admin: KubeClient;
  /** A namespace where Pod Security enforces `restricted`, deleted after the suite; returns its name. */
  restrictedNamespace(prefix: string): Promise<string>;
}

/** Registers the `beforeAll` and `afterAll` of a suite that applies toolkit output to the run's control plane. */
export function toolkitSuite(): ToolkitSuite {
  let client: KubeClient | undefined;
  const namespaces: TestNamespace[] = [];
  const admin = (): KubeClient => {
    if (!client) throw new Error('toolkit suite: the admin client is made in beforeAll; use it inside tests');
    return client;
  };
  beforeAll(async () => {
    client = testControlPlane().adminClient();
    await grantControllerRoles(client);
  });
  afterAll(async () => {
    for (const ns of namespaces) await ns.delete();
    client?.close();
  });
  return {
    get admin() {
      return admin();
    },
    restrictedNamespace: async (prefix) => {
      const ns = await createTestNamespace(admin(), prefix, { restricted: true });
      namespaces.push(ns);
      return ns.name;
    },
  };
}

/**
 * Installs the Prometheus Operator's PodMonitor CRD (the release's own file) and waits until the API server serves
 * it. Returns the function that removes it again.
 */
export async function installPodMonitorCrd(admin: KubeClient): Promise<() => Promise<void>> {
  const crd = parseYaml(readFileSync(podMonitorCrd(), 'utf8')) as Manifest;
  await serverSideApply(admin, 'default', [crd], { dryRun: false });
  const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
  await eventually(
    `the CRD ${crd.metadata.name} established`,
    async () => {
      const r = await admin.request<{ status?: { conditions?: { type: string; status: string }[] } }>({ method: 'GET', path });
      return r.body.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') || undefined;
    },
    30_000,
  );
  return async () => {
    await admin.request({ method: 'DELETE', path });
  };
}
