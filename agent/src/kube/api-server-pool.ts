import type { Logger } from '../log/logger';
import { errorFields } from '../log/logger';
import type { KubeClient } from './kube-client';
import { KubeApiError } from './kube-error';

interface EndpointsBody {
  subsets?: { addresses?: { ip?: string }[]; ports?: { name?: string; port?: number; protocol?: string }[] }[];
}

export interface ApiServerPoolProps {
  readonly client: KubeClient;
  readonly logger: Logger;
  /** `kubernetes.bypass_api_service`. */
  readonly enabled: boolean;
  /** Re-read the address list at most this often (the loop asks every run). */
  readonly refreshEveryMs: number;
  /** Per-request timeout for reading the list. */
  readonly requestTimeoutMs: number;
  /** @default performance.now */
  readonly now?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
}

const ENDPOINTS_PATH = '/api/v1/namespaces/default/endpoints/kubernetes';

/** The API servers from `default/endpoints/kubernetes`: every address with the TCP port named `https`. */
export function apiServerUrls(body: EndpointsBody): string[] {
  const out: string[] = [];
  for (const subset of body.subsets ?? []) {
    const port = subset.ports?.find((p) => p.name === 'https' && (p.protocol ?? 'TCP') === 'TCP' && typeof p.port === 'number');
    if (!port) continue;
    for (const a of subset.addresses ?? []) {
      if (a.ip) out.push(`https://${a.ip.includes(':') ? `[${a.ip}]` : a.ip}:${port.port}`);
    }
  }
  return out;
}

/**
 * `bypass_api_service`: talk to the API servers directly instead of through the `kubernetes` Service, whose
 * routing (kube-proxy) can lag while control-plane nodes are replaced. The list comes from
 * `default/endpoints/kubernetes`, re-read on every loop run; requests stick to one server and move to another when
 * it leaves the list or a request to it fails. TLS is still verified with the cluster CA (the client checks the
 * certificate against `tlsServerName`, since API server IPs need not be in its SANs). A 403 on the list turns the
 * feature off for good, with one log line: the service account lacks the ClusterRole.
 */
export class ApiServerPool {
  private servers: string[] = [];
  private index = 0;
  private enabled: boolean;
  private lastRefresh = -Infinity;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly props: ApiServerPoolProps) {
    this.enabled = props.enabled;
    this.now = props.now ?? (() => performance.now());
    this.random = props.random ?? Math.random;
  }

  get active(): boolean {
    return this.enabled;
  }

  /** How many API servers requests can rotate over (1 when the bypass is off). */
  get size(): number {
    return this.enabled ? Math.max(1, this.servers.length) : 1;
  }

  /** The base URL for the next request; `undefined` means the configured server (the Service VIP). */
  current(): string | undefined {
    return this.enabled && this.servers.length > 0 ? this.servers[this.index % this.servers.length] : undefined;
  }

  /** A request to `server` failed at the network or server level: move to the next server. */
  failed(server: string | undefined): void {
    if (!this.enabled || server === undefined || this.servers.length < 2 || this.current() !== server) return;
    this.index = (this.index + 1) % this.servers.length;
    this.props.logger.warn('api server failed; switching', { from: server, to: this.current() });
  }

  /** Re-reads the address list unless it was read within `refreshEveryMs`. Never throws. */
  async refresh(signal?: AbortSignal): Promise<void> {
    if (!this.enabled || this.now() - this.lastRefresh < this.props.refreshEveryMs) return;
    this.lastRefresh = this.now();
    const current = this.current();
    // Ask the server in use first, then the others, then the Service VIP.
    const candidates: (string | undefined)[] = [...new Set([current, ...this.servers, undefined])];
    for (const server of candidates) {
      try {
        const res = await this.props.client.request<EndpointsBody>({
          method: 'GET',
          path: ENDPOINTS_PATH,
          server,
          timeoutMs: this.props.requestTimeoutMs,
          signal,
        });
        this.adopt(apiServerUrls(res.body));
        return;
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 403) {
          this.enabled = false;
          this.servers = [];
          this.props.logger.warn('api server bypass disabled: not allowed to read default/endpoints/kubernetes', { ...errorFields(err) });
          return;
        }
        if (signal?.aborted) return;
        this.props.logger.warn('api server list read failed', { server: server ?? 'service', ...errorFields(err) });
      }
    }
  }

  private adopt(list: string[]): void {
    if (list.length === 0) return;
    const current = this.current();
    const shuffled = [...list];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    this.servers = shuffled;
    const keep = current === undefined ? -1 : shuffled.indexOf(current);
    this.index = keep >= 0 ? keep : 0;
    if (keep < 0) this.props.logger.info('api server selected', { server: this.current(), servers: shuffled, previous: current ?? null });
  }
}
