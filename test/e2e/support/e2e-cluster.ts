import { KubeApiError } from '../../../agent/src/kube/kube-error';
import { createTestNamespace, eventually, type TestNamespace } from '../../fixtures/cluster';
import { RealCluster } from '../../node/real-cluster';
import { ClusterUnderTest } from './cluster-under-test';
import { type Deployment, removeDeployFiles } from './deploy';

/** The real cluster jest's e2e global setup started for this run. */
export function e2eCluster(): RealCluster {
  const state = process.env.PGHA_E2E_CLUSTER;
  if (!state) throw new Error('PGHA_E2E_CLUSTER is not set: run e2e tests through jest\'s "e2e" project');
  return RealCluster.attach(state);
}

/** Small requests, so several members fit the node's two cores. */
export const SMALL = { cpuRequest: '100m', memoryRequest: '256Mi' } as const;

/**
 * One test file's view of the cluster: namespaces it creates (Pod Security `restricted`, as production namespaces
 * should be) and the clusters it deploys, all removed at the end.
 */
export class E2eSession {
  readonly cluster = e2eCluster();
  readonly admin = this.cluster.adminClient();
  private readonly namespaces: TestNamespace[] = [];
  private readonly deployed: ClusterUnderTest[] = [];
  private readonly undo: (() => Promise<unknown>)[] = [];

  async namespace(prefix: string): Promise<string> {
    const ns = await createTestNamespace(this.admin, prefix, { restricted: true });
    this.namespaces.push(ns);
    return ns.name;
  }

  /** Something else the test made (a CRD, …): removed by `cleanup`, after the namespaces, last made first. */
  onCleanup(remove: () => Promise<unknown>): void {
    this.undo.push(remove);
  }

  track(d: Deployment): ClusterUnderTest {
    const c = new ClusterUnderTest(this.cluster, this.admin, d);
    this.deployed.push(c);
    return c;
  }

  /**
   * Removes what the test made and waits until its namespaces are gone, so the next test finds the node's CPU and
   * memory free again (two cores fit eight members at the default CPU request).
   */
  async cleanup(): Promise<void> {
    for (const c of this.deployed.splice(0)) await c.close();
    for (const ns of this.namespaces.splice(0)) {
      await ns.delete();
      await eventually(
        `namespace ${ns.name} to be deleted`,
        async () => {
          try {
            await this.admin.request({ method: 'GET', path: `/api/v1/namespaces/${ns.name}` });
            return undefined;
          } catch (err) {
            if (err instanceof KubeApiError && err.status === 404) return true;
            throw err;
          }
        },
        180_000,
        250,
      );
    }
    for (const remove of this.undo.splice(0).reverse()) await remove();
  }

  async close(): Promise<void> {
    await this.cleanup();
    this.admin.close();
    removeDeployFiles();
  }
}

/** Prints a measured figure as one JSON line (collected from the test output into the README's tables). */
export function report(event: string, figures: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ event, ...figures })}\n`);
}
