// A stand-in for a Service that selects the primary by its role label: a TCP forwarder on 127.0.0.1 that sends each
// new connection to a member whose Pod carries `<roleLabel>=<leaderValue>`, polling the Pods every POLL_MS; with
// several such Pods (a killed leader keeps its label until its agent runs again) it takes them in turn, as a
// Service's endpoints would. Open connections are left alone, as kube-proxy leaves them; the old primary's shutdown
// ends them. It adds up to POLL_MS to an outage, the same for both systems. What it does not stand for: the
// endpoints controller's delay and readiness probes (no kubelet runs here, so a dead member's Pod stays Ready).
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { KubeClient } from '../../agent/src/kube/kube-client';
import { sleep } from '../../agent/src/clock';
import { pipeBoth } from '../../test/fixtures/socket-pipe';

/** How often the role labels are read: short against any outage measured, long against a request's cost. */
const POLL_MS = 50;

export interface PrimaryRouterOptions {
  readonly admin: KubeClient;
  readonly namespace: string;
  readonly roleLabel: string;
  /** The role label's value on the primary: `primary` for pgha, `master` for Patroni 3.0.2. */
  readonly leaderValue: string;
  /** PostgreSQL port of each member, by Pod name. */
  readonly ports: ReadonlyMap<string, number>;
}

interface PodList {
  items: { metadata: { name: string } }[];
}

export class PrimaryRouter {
  private targets: number[] = [];
  private next = 0;
  private polling = false;
  private poller: Promise<void> | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly o: PrimaryRouterOptions,
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(o: PrimaryRouterOptions, port: number): Promise<PrimaryRouter> {
    let router: PrimaryRouter | undefined;
    const server = createServer((client) => router!.forward(client));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    router = new PrimaryRouter(o, server, port);
    return router;
  }

  /** Follows the role label from now on (the idle windows pause it: its reads would count as the system's). */
  resume(): void {
    if (this.polling) return;
    this.polling = true;
    this.poller = this.poll();
  }

  async pause(): Promise<void> {
    this.polling = false;
    await this.poller;
  }

  async close(): Promise<void> {
    await this.pause();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async poll(): Promise<void> {
    while (this.polling) {
      try {
        const res = await this.o.admin.request<PodList>({
          method: 'GET',
          path: `/api/v1/namespaces/${this.o.namespace}/pods`,
          query: { labelSelector: `${this.o.roleLabel}=${this.o.leaderValue}` },
        });
        this.targets = res.body.items.map((p) => this.o.ports.get(p.metadata.name)).filter((p): p is number => p !== undefined);
      } catch {
        // The API server is busy; keep the last target, as kube-proxy would.
      }
      await sleep(POLL_MS);
    }
  }

  private forward(client: Socket): void {
    const port = this.targets[this.next++ % Math.max(1, this.targets.length)];
    if (port === undefined) {
      client.destroy();
      return;
    }
    pipeBoth(client, connect(port, '127.0.0.1'), this.sockets);
  }
}
