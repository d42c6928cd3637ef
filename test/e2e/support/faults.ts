import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { eventually } from '../../fixtures/cluster';
import { lostAcks, primaryOverlapMs, Writer } from '../../fixtures/writer';
import type { ClusterUnderTest, PodInfo } from './cluster-under-test';
import { deployPlain, type Deployment } from './deploy';
import type { RealCluster } from '../../node/real-cluster';
import type { PostgresClusterProps } from '../../../constructs';
import { type E2eSession, SMALL } from './e2e-cluster';

/** The timings the fault tests run with (the issue reports' own): ttl 10, loop_wait 2, retry_timeout 4. */
export const FAST = { ttl: 10, loopWait: 2, retryTimeout: 4 } as const;

/** Helm values for a FAST cluster of SMALL members. */
export const FAST_HELM_VALUES: Readonly<Record<string, string>> = {
  ttl: String(FAST.ttl),
  loopWait: String(FAST.loopWait),
  retryTimeout: String(FAST.retryTimeout),
  'resources.requests.cpu': SMALL.cpuRequest,
  'resources.requests.memory': SMALL.memoryRequest,
};

/** Construct props for the FAST timings and small requests. */
export const FAST_PROPS: Readonly<PostgresClusterProps> = {
  ttl: Duration.seconds(FAST.ttl),
  loopWait: Duration.seconds(FAST.loopWait),
  retryTimeout: Duration.seconds(FAST.retryTimeout),
  cpuRequest: Cpu.millis(100),
  memoryRequest: Size.mebibytes(256),
};

/** Cluster `db` from the plain manifests with the fast timings and small requests, into `namespace`. */
export function deployFast(cluster: RealCluster, namespace: string, replicas = 3): Promise<Deployment> {
  return deployPlain(cluster, namespace, { ...FAST_PROPS, name: 'db', replicas });
}

/** A three-member cluster from the plain manifests with the fast timings and small requests. */
export async function fastCluster(session: E2eSession, prefix: string, replicas = 3): Promise<ClusterUnderTest> {
  return session.track(await deployFast(session.cluster, await session.namespace(prefix), replicas));
}

/** Sets keys of the dynamic configuration (`<name>-config`) as `pgha edit-config` does, and waits for the leader to apply them. */
export async function setDynamicConfig(c: ClusterUnderTest, patch: Record<string, unknown>): Promise<void> {
  const path = `/api/v1/namespaces/${c.namespace}/configmaps/${c.d.name}-config`;
  const cm = await c.admin.request<{ metadata: { resourceVersion: string; annotations?: Record<string, string> } }>({ method: 'GET', path });
  const config = { ...JSON.parse(cm.body.metadata.annotations?.config ?? '{}'), ...patch };
  await c.admin.request({
    method: 'PATCH',
    path,
    contentType: 'application/merge-patch+json',
    body: { metadata: { resourceVersion: cm.body.metadata.resourceVersion, annotations: { config: JSON.stringify(config) } } },
  });
}

const isPause = (cmdline: readonly string[]) => cmdline[0] === '/pause';

/** The Pod's processes on its node, by what they run. */
export function containerProcesses(c: ClusterUnderTest, pod: PodInfo): { agent?: number; all: number[] } {
  const procs = c.cluster.podProcesses(pod.uid, c.cluster.nodeIndex(pod.node!)).filter((p) => !isPause(p.cmdline));
  const agent = procs.find((p) => p.cmdline.some((a) => a.endsWith('/agent/src/main.js')) && p.cmdline.includes('agent'))?.pid;
  return { agent, all: procs.map((p) => p.pid) };
}

/** Writers that record every acknowledged commit: one through the primary Service, optionally one straight to a Pod. */
export class WriterGroup {
  readonly writers: Writer[] = [];
  private constructor(
    private readonly c: ClusterUnderTest,
    readonly table: string,
  ) {}

  static async start(c: ClusterUnderTest, opts: { directTo?: string; followService?: boolean } = {}): Promise<WriterGroup> {
    const table = 'fault_writes';
    const g = new WriterGroup(c, table);
    const service = new Writer(await c.target(), { table, name: 'service' });
    await service.prepare();
    g.writers.push(service);
    if (opts.followService) g.writers.push(new Writer(await c.target(), { table, name: 'service-new-connections', connectionPerCommit: true }));
    if (opts.directTo) {
      const direct = await c.podTarget(opts.directTo);
      g.writers.push(new Writer(direct, { table, name: 'direct' }));
    }
    for (const w of g.writers) w.start();
    await eventually("the writers' first acknowledged commits", async () => (g.writers.every((w) => w.acks.length > 0) ? true : undefined), 30_000, 50);
    return g;
  }

  get service(): Writer {
    return this.writers[0]!;
  }

  async stop(): Promise<void> {
    await Promise.all(this.writers.map((w) => w.stop()));
  }

  /** Overlap of two primaries (ms) and the acknowledged rows the final primary lacks. */
  async verdict(newPrimaryIp: string): Promise<{ overlapMs: number; lost: number[]; acked: number }> {
    return {
      overlapMs: primaryOverlapMs(this.writers, newPrimaryIp),
      lost: await lostAcks(await this.c.target(), this.table, this.writers),
      acked: this.writers.reduce((n, w) => n + w.acks.length, 0),
    };
  }
}

/**
 * Waits for a lock holder (other than `old`, when given) whose server acknowledged a commit of any writer after
 * `since`.
 */
export async function newPrimary(
  c: ClusterUnderTest,
  g: WriterGroup,
  old: string | undefined,
  since: number,
  timeoutMs = 120_000,
): Promise<{ name: string; ip: string; firstAckAt: number }> {
  return eventually(
    old ? `a new primary other than ${old} taking writes` : 'a primary taking writes again',
    async () => {
      const holder = await c.holder();
      if (!holder || holder === old) return undefined;
      const ip = (await c.pods()).find((p) => p.name === holder)?.ip;
      const first = ip ? Math.min(...g.writers.flatMap((w) => w.acksBy(ip, since)).map((a) => a.at)) : Infinity;
      return ip && Number.isFinite(first) ? { name: holder, ip, firstAckAt: first } : undefined;
    },
    timeoutMs,
    100,
  );
}

/** Kills every process of the Pod's containers at the same instant (frozen first, as a crash), the pause process aside. */
export function killContainers(c: ClusterUnderTest, pod: PodInfo): void {
  c.cluster.killPodProcesses(pod.uid, c.cluster.nodeIndex(pod.node!));
}
