import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { KubeClient } from '../../agent/src/kube/kube-client';
import { ApiServerPool } from '../../agent/src/kube/api-server-pool';
import { ObjectCache, type KubeObject } from '../../agent/src/kube/object-cache';
import { silentLogger } from '../../agent/src/log/logger';

interface EndpointSlice extends KubeObject {
  readonly endpoints?: readonly { readonly addresses: readonly string[]; readonly conditions?: { readonly ready?: boolean } }[];
  readonly ports?: readonly { readonly name?: string; readonly port?: number }[];
}

export interface ServiceForwarderProps {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly service: string;
  /** Name of the Service port to forward (as in the EndpointSlice). */
  readonly portName: string;
  /** Stable local address clients connect to. */
  readonly listenHost: string;
  readonly listenPort: number;
  /** Maps a pod IP (data only) to the loopback address where that member really listens. */
  readonly resolve: (podIp: string) => string | undefined;
}

/**
 * What kube-proxy does for one Service port, for the sandbox: follows the Service's EndpointSlices and forwards
 * each new TCP connection on a stable loopback address to a ready endpoint (round robin). Established connections
 * are left alone, as with kube-proxy.
 */
export class ServiceForwarder {
  private server: Server | undefined;
  private cache: ObjectCache<EndpointSlice> | undefined;
  private next = 0;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly props: ServiceForwarderProps) {}

  /** `host:port` targets of ready endpoints, in a stable order. */
  targets(): string[] {
    const out = new Set<string>();
    for (const slice of this.cache?.values() ?? []) {
      const port = slice.ports?.find((p) => p.name === this.props.portName)?.port;
      if (port === undefined) continue;
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        for (const ip of ep.addresses) {
          const real = this.props.resolve(ip);
          if (real) out.add(`${real}:${port}`);
        }
      }
    }
    return [...out].sort();
  }

  async start(): Promise<void> {
    const p = this.props;
    this.cache = new ObjectCache<EndpointSlice>({
      client: p.client,
      pool: new ApiServerPool({ client: p.client, logger: silentLogger, enabled: false, refreshEveryMs: 10_000, requestTimeoutMs: 5_000 }),
      logger: silentLogger,
      path: `/apis/discovery.k8s.io/v1/namespaces/${p.namespace}/endpointslices`,
      labelSelector: `kubernetes.io/service-name=${p.service}`,
      onChange: () => undefined,
      listTimeoutMs: 5_000,
    });
    this.cache.start();
    this.server = createServer((client) => this.forward(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(p.listenPort, p.listenHost, () => resolve());
    });
  }

  async stop(): Promise<void> {
    await this.cache?.stop();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  private forward(client: Socket): void {
    const targets = this.targets();
    if (targets.length === 0) {
      client.destroy();
      return;
    }
    const target = targets[this.next++ % targets.length]!;
    const sep = target.lastIndexOf(':');
    const upstream = createConnection({ host: target.slice(0, sep), port: Number(target.slice(sep + 1)) });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}
