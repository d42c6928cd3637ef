// The agent works with a real service-account token (TokenRequest) bound to exactly the rules in
// agent/src/kube/rbac-rules.ts, in both modes; with one verb less it cannot lead, so the check is not vacuous.
import { agentRoleRules, type PolicyRule } from '../../../agent/src/kube/rbac-rules';
import { eventually, mintServiceAccountToken } from '../../fixtures/cluster';
import { type AgentProcess, expectNoOverlap, stopAll, writeKubeconfig } from './harness';
import { agentSuite } from '../suite';

jest.setTimeout(180_000);
const suite = agentSuite('rbac', { ttl: 8 });

/** A service account bound to `rules` in the test namespace, and a kubeconfig with a TokenRequest token for it. */
async function serviceAccountKubeconfig(sa: string, rules: readonly PolicyRule[]): Promise<string> {
  const base = `/api/v1/namespaces/${suite.namespace}`;
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${suite.namespace}`;
  await suite.admin.request({ method: 'POST', path: `${base}/serviceaccounts`, body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa } } });
  await suite.admin.request({
    method: 'POST',
    path: `${rbac}/roles`,
    body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: sa }, rules },
  });
  await suite.admin.request({
    method: 'POST',
    path: `${rbac}/rolebindings`,
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: sa },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: sa },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: suite.namespace }],
    },
  });
  const token = await mintServiceAccountToken(suite.admin, suite.namespace, sa);
  return writeKubeconfig(suite.dir, sa, suite.cp.state.server, suite.cp.state.caFile, token);
}

async function cluster(useEndpoints: boolean, saKubeconfig: string): Promise<{ scope: string; agents: AgentProcess[] }> {
  const { scope, names } = await suite.newScope(3);
  const agents = names.map((name, i) => suite.start({ name, scope, kubeconfig: saKubeconfig, useEndpoints, podIp: `192.0.2.${30 + i}` }));
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
    const holder = await eventually('a holder', () => suite.holderOf(scope, useEndpoints));
    await eventually('the primary label', async () => ((await suite.getPod(holder)).metadata.labels?.role === 'primary' ? true : undefined));
    agents.find((a) => a.name === holder)!.signal('SIGTERM');
    await suite.newHolder(scope, holder, { timeoutMs: 5_000, everyMs: 100, useEndpoints });
    if (useEndpoints) {
      await suite.admin.request({ method: 'GET', path: `/api/v1/namespaces/${suite.namespace}/services/${scope}-config` });
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

it('a leader whose renew is refused (403) while its RoleBinding is re-created retries within the renew and keeps leading', async () => {
  const sa = 'pgha-rebind';
  const kubeconfig = await serviceAccountKubeconfig(sa, agentRoleRules({ useEndpoints: false }));
  const { scope, names } = await suite.newScope(2);
  // retry_timeout 3 at ttl 8: a renew may retry for 3 s and the lease still has time left after it.
  const agents = names.map((name, i) => suite.start({ name, scope, kubeconfig, retryTimeout: 3, podIp: `192.0.2.${40 + i}` }));
  const holder = await eventually('a holder', () => suite.holderOf(scope, false));
  const leader = agents.find((a) => a.name === holder)!;
  const bindings = `/apis/rbac.authorization.k8s.io/v1/namespaces/${suite.namespace}/rolebindings`;
  const binding = (await suite.admin.request<Record<string, unknown>>({ method: 'GET', path: `${bindings}/${sa}` })).body as {
    metadata: Record<string, unknown>;
  };
  const since = leader.lines.length;
  await suite.admin.request({ method: 'DELETE', path: `${bindings}/${sa}` });
  const refusedRenew = (l: Record<string, unknown>) =>
    l.msg === 'kubernetes request failed; retrying' &&
    l.method === 'PATCH' &&
    String(l.path).endsWith(`/configmaps/${scope}-leader`) &&
    /HTTP 403/.test(JSON.stringify(l));
  await leader.waitFor('a refused renew being retried', (l) => leader.lines.indexOf(l) >= since && refusedRenew(l), 20_000);
  const { name } = binding.metadata as { name: string };
  await suite.admin.request({ method: 'POST', path: bindings, body: { ...binding, metadata: { name } } });
  await leader.waitFor(
    'a renew after the binding is back',
    (l) => leader.lines.indexOf(l) >= since && l.msg === 'ha loop' && l.reason === 'renewing the lock' && (l.outcomes as string[]).includes('renewed'),
    20_000,
  );
  const after = leader.lines.slice(since);
  expect(after.filter((l) => l.msg === 'stopped acting as leader')).toEqual([]);
  expect(await suite.holderOf(scope, false)).toBe(holder);
  expectNoOverlap(agents);
  await stopAll(agents);
});
