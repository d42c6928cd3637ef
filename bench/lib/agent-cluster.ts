// Helpers for the agent benchmarks: a private control plane (no controller-manager, so the API server's request
// counter sees little besides the agents), member Pods, agent processes, and apiserver_request_total scraping.
import { rmSync } from 'node:fs';
import type { KubeClient } from '../../agent/src/kube/kube-client';
import { ensureBinaries } from '../../test/control-plane/binaries';
import { ControlPlane } from '../../test/control-plane/control-plane';
import { randomBytes } from 'node:crypto';
import { AgentProcess, agentBuild, createMemberPods, stopAll, workDir, writeKubeconfig } from '../../test/integration/agent/harness';

export interface BenchCluster {
  readonly cp: ControlPlane;
  readonly admin: KubeClient;
  readonly dir: string;
  readonly kubeconfig: string;
  close(): Promise<void>;
}

export async function startBenchCluster(): Promise<BenchCluster> {
  agentBuild();
  const cp = await ControlPlane.start({ controllerManager: false }, ensureBinaries());
  const admin = cp.adminClient();
  const dir = workDir('bench');
  const kubeconfig = writeKubeconfig(dir, 'admin', cp.state.server, cp.state.caFile, cp.state.adminToken);
  return {
    cp,
    admin,
    dir,
    kubeconfig,
    close: async () => {
      admin.close();
      await cp.stop();
      rmSync(cp.state.dir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface AgentTiming {
  readonly ttl: number;
  readonly loopWait: number;
  readonly retryTimeout: number;
}

/** Patroni's defaults: ttl 30, loop_wait 10, retry_timeout 10. */
export const PATRONI_DEFAULTS: AgentTiming = { ttl: 30, loopWait: 10, retryTimeout: 10 };

export interface BenchNamespace {
  readonly name: string;
  delete(): Promise<void>;
}

/**
 * A namespace with its `default` service account created by hand: the bench control plane runs no
 * controller-manager (whose own requests would blur the count), so nothing else would create it.
 */
export async function createBenchNamespace(admin: KubeClient, prefix: string): Promise<BenchNamespace> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } });
  await admin.request({
    method: 'POST',
    path: `/api/v1/namespaces/${name}/serviceaccounts`,
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } },
  });
  return {
    name,
    delete: async () => {
      await admin.request({ method: 'DELETE', path: `/api/v1/namespaces/${name}` });
    },
  };
}

export async function startMembers(
  c: BenchCluster,
  ns: BenchNamespace,
  scope: string,
  count: number,
  timing: AgentTiming,
  useEndpoints = false,
): Promise<AgentProcess[]> {
  const names = Array.from({ length: count }, (_, i) => `${scope}-${i}`);
  await createMemberPods(c.admin, ns.name, scope, names);
  return names.map((name, i) =>
    AgentProcess.start({ name, scope, namespace: ns.name, kubeconfig: c.kubeconfig, useEndpoints, podIp: `192.0.2.${10 + i}`, ...timing }, c.dir),
  );
}

export { stopAll };

/** Resources the agents touch; everything else the API server counts (its own leases, /metrics) is left out. */
const AGENT_RESOURCES = new Set(['configmaps', 'endpoints', 'pods', 'services']);

/** Sum of apiserver_request_total per `VERB resource` for the agents' resources. */
export async function requestCounts(admin: KubeClient): Promise<Map<string, number>> {
  const res = await admin.request({ method: 'GET', path: '/metrics' });
  const out = new Map<string, number>();
  for (const line of String(res.body).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!AGENT_RESOURCES.has(labels.resource ?? '')) continue;
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? `/${labels.subresource}` : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

export function delta(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}
