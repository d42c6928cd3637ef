// The agent works with a real service-account token (TokenRequest) bound to exactly the rules in
// agent/src/kube/rbac-rules.ts, in both modes; with one verb less it cannot lead, so the check is not vacuous.
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { agentRoleRules, type PolicyRule } from '../../../agent/src/kube/rbac-rules';
import { createTestNamespace, eventually, mintServiceAccountToken, testControlPlane, type TestNamespace } from '../../fixtures/cluster';
import { AgentProcess, agentBuild, createMemberPods, expectNoOverlap, getPod, holderOf, stopAll, workDir, writeKubeconfig } from './harness';

jest.setTimeout(180_000);
const cp = testControlPlane();
let admin: KubeClient;
let ns: TestNamespace;
let dir: string;
const started: AgentProcess[] = [];
let scopes = 0;

beforeAll(async () => {
  admin = cp.adminClient();
  ns = await createTestNamespace(admin, 'rbac');
  dir = workDir('rbac');
  agentBuild();
}, 180_000);

afterAll(async () => {
  await stopAll(started);
  await ns.delete();
  admin.close();
});

/** A service account bound to `rules` in the test namespace, and a kubeconfig with a TokenRequest token for it. */
async function serviceAccountKubeconfig(sa: string, rules: readonly PolicyRule[]): Promise<string> {
  const base = `/api/v1/namespaces/${ns.name}`;
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns.name}`;
  await admin.request({ method: 'POST', path: `${base}/serviceaccounts`, body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa } } });
  await admin.request({
    method: 'POST',
    path: `${rbac}/roles`,
    body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: sa }, rules },
  });
  await admin.request({
    method: 'POST',
    path: `${rbac}/rolebindings`,
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: sa },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sa },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns.name }],
    },
  });
  const token = await mintServiceAccountToken(admin, ns.name, sa);
  return writeKubeconfig(dir, sa, cp.state.server, cp.state.caFile, token);
}

async function cluster(useEndpoints: boolean, kubeconfig: string): Promise<{ scope: string; agents: AgentProcess[] }> {
  const scope = `s${++scopes}`;
  const names = [0, 1, 2].map((i) => `${scope}-${i}`);
  await createMemberPods(admin, ns.name, scope, names);
  const agents = names.map((name, i) =>
    AgentProcess.start({ name, scope, namespace: ns.name, kubeconfig, useEndpoints, podIp: `192.0.2.${30 + i}`, ttl: 8 }, dir),
  );
  started.push(...agents);
  return { scope, agents };
}

const forbidden = (a: AgentProcess) => a.lines.filter((l) => JSON.stringify(l).includes('HTTP 403'));

describe.each([
  ['ConfigMap', false],
  ['Endpoints', true],
])('%s mode with exactly agentRoleRules', (mode, useEndpoints) => {
  it('elects, publishes status, fails over on SIGTERM, and is never refused', async () => {
    const kubeconfig = await serviceAccountKubeconfig(`pgha-${mode.toLowerCase()}`, agentRoleRules({ useEndpoints }));
    const { scope, agents } = await cluster(useEndpoints, kubeconfig);
    const holder = await eventually('a holder', () => holderOf(admin, ns.name, scope, useEndpoints));
    await eventually('the primary label', async () => ((await getPod(admin, ns.name, holder)).metadata.labels?.role === 'primary' ? true : undefined));
    agents.find((a) => a.name === holder)!.signal('SIGTERM');
    await eventually(
      'a new holder',
      async () => {
        const h = await holderOf(admin, ns.name, scope, useEndpoints);
        return h && h !== holder ? h : undefined;
      },
      5_000,
    );
    if (useEndpoints) {
      await admin.request({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/services/${scope}-config` });
    }
    for (const a of agents) expect(forbidden(a)).toEqual([]);
    expectNoOverlap(agents);
    await stopAll(agents);
  });
});

it('cannot take the lock when the role lacks patch on configmaps (the rules are what make it work)', async () => {
  const rules = agentRoleRules({ useEndpoints: false }).map((r) =>
    r.resources.includes('configmaps') ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') } : r,
  );
  const kubeconfig = await serviceAccountKubeconfig('pgha-short', rules);
  const { agents } = await cluster(false, kubeconfig);
  // The first acquire creates the object; from then on every lock write is a patch and is refused.
  await eventually('a refused lock write', async () => (agents.some((a) => forbidden(a).length > 0) ? true : undefined), 20_000);
  for (const a of agents) expect(a.running).toBe(true);
  expect(
    agents.filter((a) =>
      a.find((l) => l.msg === 'ha loop' && l.leading === true && l.reason === 'renewing the lock' && (l.outcomes as string[]).includes('renewed')),
    ),
  ).toEqual([]);
  await stopAll(agents);
});
