// One setup for integration tests that need a running cluster of real agents: a namespace of its own, an admin
// kubeconfig, and a SandboxCluster on loopback addresses the test chooses (so suites never collide).
import { readFileSync } from 'node:fs';
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { freePort } from '../../control-plane/free-port';
import { createTestNamespace, testControlPlane, type TestNamespace } from '../../fixtures/cluster';
import { SandboxCluster, type SandboxClusterProps } from '../../sandbox/cluster';
import { agentBuild, NODE_PATH, workDir, writeKubeconfig } from '../agent/harness';

export interface TestSandbox {
  readonly admin: KubeClient;
  readonly ns: TestNamespace;
  readonly cluster: SandboxCluster;
  /** Admin kubeconfig, context `c`. */
  readonly kubeconfig: string;
}

export interface TestSandboxOptions {
  /** Namespace and work-directory prefix. */
  readonly prefix: string;
  readonly scope: string;
  readonly members: number;
  /** Members listen on 127.0.0.<firstHost>, <firstHost + 1>, ... */
  readonly firstHost: number;
  /** Anything else the cluster should be given (REST credentials, label values). */
  readonly extra?: Partial<SandboxClusterProps>;
}

/** Starts the cluster and waits until it runs. */
export async function startTestSandbox(o: TestSandboxOptions): Promise<TestSandbox> {
  const cp = testControlPlane();
  const admin = cp.adminClient();
  const ns = await createTestNamespace(admin, o.prefix);
  const dir = workDir(o.prefix);
  const kubeconfig = writeKubeconfig(dir, 'admin', cp.state.server, cp.state.caFile, cp.state.adminToken);
  const cluster = new SandboxCluster({
    client: admin,
    server: cp.state.server,
    caPem: readFileSync(cp.state.caFile, 'utf8'),
    agentMain: agentBuild(),
    nodePath: NODE_PATH,
    workDir: dir,
    namespace: ns.name,
    scope: o.scope,
    members: o.members,
    firstHost: o.firstHost,
    pgPort: await freePort(`127.0.0.${o.firstHost}`),
    apiPort: await freePort(`127.0.0.${o.firstHost}`),
    primaryAddress: { host: '127.0.0.1', port: await freePort() },
    replicasAddress: { host: '127.0.0.1', port: await freePort() },
    ...o.extra,
  });
  await cluster.start();
  return { admin, ns, cluster, kubeconfig };
}

/** Stops every process the cluster started and removes its namespace; safe on a half-started sandbox. */
export async function stopTestSandbox(s: TestSandbox | undefined): Promise<void> {
  await s?.cluster.stop();
  await s?.ns.delete();
  s?.admin.close();
}
