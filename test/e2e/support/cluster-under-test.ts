import { Client } from 'pg';
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { eventually } from '../../fixtures/cluster';
import type { WriterTarget } from '../../fixtures/writer';
import type { RealCluster, Relay } from '../../node/real-cluster';
import type { Deployment } from './deploy';

export interface PodInfo {
  readonly name: string;
  readonly ip?: string;
  readonly node?: string;
  readonly ready: boolean;
  readonly phase?: string;
  readonly role?: string;
  readonly uid: string;
  readonly restarts: number;
}

interface RawPod {
  metadata: { name: string; uid: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { restartCount: number }[] };
}

/**
 * A deployed pgha cluster on the real node, seen as its operator sees it: Pods, the lock, the Services (through
 * relays that go through kube-proxy), and SQL.
 */
export class ClusterUnderTest {
  private readonly relays = new Map<string, Promise<Relay>>();
  /** The superuser password this side connects with: the deployment's, until a test rotates the Secret. */
  superuserPassword: string;
  /** The REST API credentials this side sends: the deployment's, until a test rotates the Secret. */
  restApiAuth: Deployment['restApiAuth'];

  constructor(
    readonly cluster: RealCluster,
    readonly admin: KubeClient,
    readonly d: Deployment,
  ) {
    this.superuserPassword = d.superuserPassword;
    this.restApiAuth = d.restApiAuth;
  }

  get namespace(): string {
    return this.d.namespace;
  }

  async pods(): Promise<PodInfo[]> {
    const res = await this.admin.request<{ items: RawPod[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${this.namespace}/pods`,
      query: { labelSelector: `app.kubernetes.io/name=pgha,cluster-name=${this.d.name}` },
    });
    return res.body.items
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => ({
        name: p.metadata.name,
        uid: p.metadata.uid,
        ip: p.status?.podIP,
        node: p.spec?.nodeName,
        phase: p.status?.phase,
        ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
        role: p.metadata.labels?.[this.d.roleLabel],
        restarts: p.status?.containerStatuses?.[0]?.restartCount ?? 0,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The lock holder named by `<name>-leader`, or undefined. */
  async holder(): Promise<string | undefined> {
    try {
      const res = await this.admin.request<{ metadata: { annotations?: Record<string, string> } }>({
        method: 'GET',
        path: `/api/v1/namespaces/${this.namespace}/configmaps/${this.d.name}-leader`,
      });
      return res.body.metadata.annotations?.leader || undefined;
    } catch {
      return undefined;
    }
  }

  /** A loopback address that reaches the primary Service through kube-proxy (one relay per Service, reused). */
  service(name: string): Promise<Relay> {
    let r = this.relays.get(name);
    if (!r) {
      r = this.cluster.serviceRelay(this.namespace, name, 5432);
      this.relays.set(name, r);
    }
    return r;
  }

  async target(service = this.d.primaryService): Promise<WriterTarget> {
    const r = await this.service(service);
    return { host: r.host, port: r.port, user: 'postgres', password: this.superuserPassword };
  }

  private async podIp(pod: string): Promise<string> {
    const p = (await this.pods()).find((x) => x.name === pod);
    if (!p?.ip) throw new Error(`pod ${pod} has no IP`);
    return p.ip;
  }

  /** A loopback address that reaches one Pod's PostgreSQL directly (its Pod IP). */
  async podTarget(pod: string): Promise<WriterTarget & { relay: Relay }> {
    const relay = await this.cluster.relay(`${await this.podIp(pod)}:5432`);
    return { host: relay.host, port: relay.port, user: 'postgres', password: this.superuserPassword, relay };
  }

  /**
   * One call to a member's REST API at its Pod address, as a client in the cluster network makes it: with the
   * deployment's basic auth (`restApiAuth`) unless `auth` is false.
   */
  async api(pod: string, method: string, path: string, opts: { body?: unknown; auth?: boolean } = {}): Promise<{ status: number; text: string }> {
    const relay = await this.cluster.relay(`${await this.podIp(pod)}:8008`);
    try {
      const creds = opts.auth === false ? undefined : this.restApiAuth;
      const headers: Record<string, string> = creds ? { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` } : {};
      const res = await fetch(`http://${relay.host}:${relay.port}${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(60_000),
      });
      return { status: res.status, text: await res.text() };
    } finally {
      await relay.stop();
    }
  }

  async sql<T extends Record<string, unknown>>(target: WriterTarget, text: string, params: unknown[] = []): Promise<T[]> {
    const c = new Client({ ...target, database: 'postgres', connectionTimeoutMillis: 3000, query_timeout: 5000 });
    c.on('error', () => undefined);
    await c.connect();
    try {
      return (await c.query<T>(text, params)).rows;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /**
   * Waits until the cluster is whole: every member's Pod Running and Ready, one lock holder whose Pod carries the
   * leader label and serves writes through the primary Service, every other Pod labelled follower and streaming
   * from it (pg_stat_replication on the primary). Returns the holder.
   */
  async healthy(timeoutMs = 180_000, replicas = this.d.replicas): Promise<string> {
    let seen = 'nothing yet';
    try {
      return await eventually(
        `${this.d.name}: ${replicas} members Ready, one primary, ${replicas - 1} streaming replicas`,
        async () => {
          const pods = await this.pods();
          const holder = await this.holder();
          seen = `holder ${holder ?? 'none'}; ${pods.map((p) => `${p.name} ${p.phase} ready=${p.ready} role=${p.role ?? '-'} restarts=${p.restarts}`).join('; ')}`;
          if (!holder || pods.length !== replicas || pods.some((p) => !p.ready)) return undefined;
          for (const p of pods) if (p.role !== (p.name === holder ? this.d.leaderLabelValue : this.d.followerLabelValue)) return undefined;
          const rows = await this.sql<{ primary: boolean; streaming: string }>(
            await this.target(),
            "SELECT NOT pg_is_in_recovery() AS primary, (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming') AS streaming",
          );
          seen += `; through the primary Service: primary=${rows[0]?.primary}, streaming=${rows[0]?.streaming}`;
          if (!rows[0]?.primary || Number(rows[0].streaming) !== replicas - 1) return undefined;
          return holder;
        },
        timeoutMs,
        500,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\nlast seen: ${seen}\n${await this.diagnose()}`, { cause: err });
    }
  }

  /** What an operator would look at first when the cluster does not come whole: Pods, events, each member's log tail. */
  async diagnose(): Promise<string> {
    const run = (args: string[]) => this.cluster.kubectl(args).catch((e: unknown) => (e instanceof Error ? e.message : JSON.stringify(e)));
    const parts = [
      await run(['get', 'pods', '-n', this.namespace, '-o', 'wide']),
      await run(['get', 'events', '-n', this.namespace, '--sort-by=.lastTimestamp']).then((t) => t.split('\n').slice(-25).join('\n')),
    ];
    for (const p of await this.pods().catch(() => [])) {
      parts.push(`--- ${p.name} log (last 40 lines)\n${await run(['logs', '-n', this.namespace, p.name, '--tail=40'])}`);
      if (p.restarts > 0) parts.push(`--- ${p.name} previous log\n${await run(['logs', '-n', this.namespace, p.name, '--previous', '--tail=40'])}`);
    }
    return parts.join('\n');
  }

  async exec(pod: string, command: readonly string[]): Promise<string> {
    return this.cluster.kubectl(['exec', '-n', this.namespace, pod, '--', ...command]);
  }

  async close(): Promise<void> {
    for (const r of this.relays.values()) await (await r).stop();
    this.relays.clear();
  }
}
