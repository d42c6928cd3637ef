// The bypass_api_service scenario, run inside a network namespace by run-in-netns.sh (see bypass.test.ts): two
// kube-apiservers on one etcd at 192.0.2.1 and 192.0.2.2 with the lease endpoint reconciler, agents with
// `bypass_api_service`, the API server the leader uses killed, and a member whose service account lacks the
// ClusterRole. Prints one JSON line of facts for the test to judge; stops everything it started.
import { rmSync } from 'node:fs';
import { KubeClient } from '../../../../agent/src/kube/kube-client';
import { agentRoleRules, BYPASS_CLUSTER_RULE } from '../../../../agent/src/kube/rbac-rules';
import type { ControlPlaneBinaries } from '../../../control-plane/binaries';
import { ControlPlane } from '../../../control-plane/control-plane';
import { eventually, mintServiceAccountToken } from '../../../fixtures/cluster';
import { AgentProcess, createMemberPods, holderOf, type LogLine, readLock, stopAll, workDir, writeKubeconfig } from '../harness';
import { sleep } from '../../../../agent/src/clock';

const TTL = 8;

interface Endpoints {
  subsets?: { addresses?: { ip: string }[] }[];
}

async function kubernetesEndpointIps(admin: KubeClient): Promise<string[]> {
  const ep = await admin.request<Endpoints>({ method: 'GET', path: '/api/v1/namespaces/default/endpoints/kubernetes' });
  return (ep.body.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
}

/** The API server an agent uses now, from its own log. */
function serverInUse(lines: readonly LogLine[]): string | undefined {
  let current: string | undefined;
  for (const l of lines) {
    if (l.msg === 'api server selected') current = l.server as string;
    if (l.msg === 'api server failed; switching') current = l.to as string;
  }
  return current;
}

async function main(): Promise<void> {
  const binaries = JSON.parse(process.env.PGHA_BINARIES ?? '') as ControlPlaneBinaries;
  const cp = await ControlPlane.start({ apiServerAddresses: ['192.0.2.1', '192.0.2.2'], endpointReconciler: 'lease', controllerManager: false }, binaries);
  const agents: AgentProcess[] = [];
  const facts: Record<string, unknown> = {};
  try {
    const dir = workDir('bypass');
    const clients = cp.state.servers.map((s) => cp.clientWithToken(cp.state.adminToken, s));
    facts.endpointIps = await eventually(
      'both API servers in default/endpoints/kubernetes',
      async () => {
        const ips = await kubernetesEndpointIps(clients[0]!);
        return ips.length === 2 ? ips : undefined;
      },
      60_000,
      500,
    );

    const ns = 'bypass';
    const admin = clients[0]!;
    await admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
    await admin.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/serviceaccounts`,
      body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } },
    });
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    const serviceAccount = async (name: string, clusterRole: boolean): Promise<string> => {
      await admin.request({
        method: 'POST',
        path: `/api/v1/namespaces/${ns}/serviceaccounts`,
        body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } },
      });
      await admin.request({
        method: 'POST',
        path: `${rbac}/namespaces/${ns}/roles`,
        body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules: agentRoleRules({ useEndpoints: false }) },
      });
      const subjects = [{ kind: 'ServiceAccount', name, namespace: ns }];
      await admin.request({
        method: 'POST',
        path: `${rbac}/namespaces/${ns}/rolebindings`,
        body: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
          subjects,
        },
      });
      if (clusterRole) {
        await admin.request({
          method: 'POST',
          path: `${rbac}/clusterroles`,
          body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${ns}-${name}` }, rules: [BYPASS_CLUSTER_RULE] },
        });
        await admin.request({
          method: 'POST',
          path: `${rbac}/clusterrolebindings`,
          body: {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRoleBinding',
            metadata: { name: `${ns}-${name}` },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${ns}-${name}` },
            subjects,
          },
        });
      }
      return mintServiceAccountToken(admin, ns, name);
    };
    // The configured server plays the `kubernetes` Service address; the bypass moves off it.
    const withClusterRole = writeKubeconfig(dir, 'pgha', cp.state.servers[0]!, cp.state.caFile, await serviceAccount('pgha', true));
    const lonerToken = await serviceAccount('pgha-no-cluster-role', false);

    const scope = 'bp';
    const names = ['bp-0', 'bp-1', 'bp-2', 'bp-3'];
    await createMemberPods(admin, ns, scope, names);
    const start = (name: string, kubeconfig: string) =>
      AgentProcess.start({ name, scope, namespace: ns, kubeconfig, ttl: TTL, podIp: '192.0.2.50', kubernetes: { bypass_api_service: true } }, dir);
    agents.push(...names.slice(0, 3).map((n) => start(n, withClusterRole)));
    const holder = await eventually('a leader', () => holderOf(admin, ns, scope, false), 30_000);
    const leader = agents.find((a) => a.name === holder)!;
    await sleep(3_000);
    const inUse = serverInUse(leader.lines);
    facts.serverBefore = inUse;
    const before = await readLock(admin, ns, scope, false);
    facts.transitionsBefore = before?.metadata.annotations?.transitions;

    // Kill the API server the leader talks to.
    const index = cp.state.servers.indexOf(inUse ?? '');
    facts.killed = index >= 0 ? cp.state.servers[index] : null;
    if (index >= 0) {
      const proc = cp.state.processes.find((p) => p.name === `kube-apiserver-${index}`)!;
      process.kill(proc.pid, 'SIGKILL');
      const survivor = clients[1 - index]!;
      const holders = new Set<string>();
      const until = Date.now() + 3 * TTL * 1000;
      while (Date.now() < until) {
        holders.add((await holderOf(survivor, ns, scope, false)) ?? '(none)');
        await sleep(200);
      }
      facts.holdersAfterKill = [...holders];
      facts.transitionsAfter = (await readLock(survivor, ns, scope, false))?.metadata.annotations?.transitions;
      facts.leaderSteppedDown = leader.lines.some((l) => l.msg === 'stopped acting as leader');
      facts.leaderSwitched = leader.lines.filter((l) => l.msg === 'api server failed; switching').map((l) => l.to);
      facts.serverAfter = serverInUse(leader.lines);
      facts.endpointIpsAfter = await eventually(
        'the dead API server to leave the list',
        async () => {
          const ips = await kubernetesEndpointIps(survivor);
          return ips.length === 1 ? ips : undefined;
        },
        60_000,
        500,
      ).catch(() => null);

      // A member whose service account may not read default/endpoints/kubernetes turns the bypass off, once.
      // Its configured server is the surviving one: without the bypass that is all it has.
      const loner = start('bp-3', writeKubeconfig(dir, 'pgha-no-cluster-role', cp.state.servers[1 - index]!, cp.state.caFile, lonerToken));
      agents.push(loner);
      await loner
        .waitFor('a follower loop run', (l) => l.msg === 'ha loop' && l.holder === holder && l.reason === 'following the lock holder', 30_000)
        .catch(() => undefined);
      await sleep(3_000);
      facts.lonerDisabledLines = loner.lines.filter((l) => l.msg === 'api server bypass disabled: not allowed to read default/endpoints/kubernetes').length;
      facts.lonerFollows = loner.lines.some((l) => l.msg === 'ha loop' && l.holder === holder);
      facts.lonerErrors = loner.lines.filter((l) => l.level === 'error').length;
    }
    facts.holder = holder;
    facts.errors = agents.flatMap((a) => a.lines.filter((l) => l.level === 'error').map((l) => `${a.name}: ${l.msg}`));
  } finally {
    await stopAll(agents);
    await cp.stop();
    rmSync(cp.state.dir, { recursive: true, force: true });
  }
  process.stdout.write(`BYPASS-FACTS ${JSON.stringify(facts)}\n`);
}

main().catch((err: unknown) => {
  process.stdout.write(`BYPASS-FAILED ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
