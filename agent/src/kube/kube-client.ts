import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { KubeApiError } from './kube-error';
import type { KubeConnection } from './kube-connection';

export type Query = Record<string, string | number | boolean | undefined>;

export interface KubeRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** API path, e.g. `/api/v1/namespaces/ns/configmaps/x`. */
  readonly path: string;
  readonly query?: Query;
  readonly body?: unknown;
  /** Defaults to `application/json`; PATCH callers pass the patch type. */
  readonly contentType?: string;
  /** Whole-request deadline in milliseconds. @default 10000 */
  readonly timeoutMs?: number;
  /** Send to this base URL instead of the connection's server (API-server bypass). */
  readonly server?: string;
  readonly signal?: AbortSignal;
}

export interface KubeResponse<T> {
  readonly status: number;
  readonly body: T;
  /**
   * Response headers by lower-case name, each with all its values (a header sent twice, like admission's `warning`,
   * keeps both). Absent from responses not made by `request`.
   */
  readonly headers?: Readonly<Record<string, readonly string[]>>;
}

export interface WatchEvent<T> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: T;
}

/** Observes every request the client makes; used for request accounting and logs. */
export type RequestObserver = (method: string, path: string, status: number | 'error', durationMs: number) => void;

/** A watch that carried no data for longer than its idle bound (the connection is presumed dead). */
export class WatchIdleError extends Error {
  override readonly name = 'WatchIdleError';
  constructor(
    message: string,
    /** The server had answered (the stream was open) before it fell silent: a quiet stream, not a failed request. */
    readonly answered: boolean,
  ) {
    super(message);
  }
}

export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

const DEFAULT_TIMEOUT_MS = 10_000;

function queryString(q: Query | undefined): string {
  if (!q) return '';
  const parts = Object.entries(q)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * The URL of `path` on `server`, keeping a path prefix the server URL has (a Rancher or `kubectl proxy --api-prefix`
 * server is `https://host/k8s/clusters/c-1`); `new URL('/api', base)` would drop it.
 */
export function apiUrl(server: string, pathAndQuery: string): URL {
  return new URL(server.replace(/\/+$/, '') + pathAndQuery);
}

function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/**
 * A small Kubernetes REST client over node:https.
 *
 * We own this rather than use @kubernetes/client-node because the HA agent needs exact control over what goes on
 * the wire: a per-request API server (for `bypass_api_service`) with a stable certificate name, the precondition
 * `resourceVersion` inside patch bodies, the raw HTTP status for 409 and `Retry-After`, watch resumption from a
 * resourceVersion, and per-request accounting. Patroni made the same choice (it dropped the python client in 2.0).
 */
export class KubeClient {
  private readonly agents = new Map<string, HttpAgent>();

  constructor(
    readonly connection: KubeConnection,
    private readonly options: { userAgent?: string; observer?: RequestObserver } = {},
  ) {}

  /** Sends one request and returns the parsed JSON body. Non-2xx answers throw `KubeApiError`. */
  async request<T = unknown>(req: KubeRequest): Promise<KubeResponse<T>> {
    const started = performance.now();
    const base = req.server ?? this.connection.server;
    const url = apiUrl(base, req.path + queryString(req.query));
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    try {
      // One deadline for the whole exchange, body included; the caller's signal can end it earlier.
      // Whole milliseconds: AbortSignal.timeout rejects fractions, and callers compute budgets from performance.now().
      const deadline = AbortSignal.timeout(Math.max(1, Math.ceil(req.timeoutMs ?? DEFAULT_TIMEOUT_MS)));
      const signal = req.signal ? AbortSignal.any([req.signal, deadline]) : deadline;
      const res = await this.send(url, req.method, req.contentType ?? 'application/json', payload, signal);
      const text = await readAll(res);
      const status = res.statusCode ?? 0;
      this.options.observer?.(req.method, req.path, status, performance.now() - started);
      const body = text.length ? safeJson(text) : undefined;
      if (status < 200 || status >= 300) {
        const reason = typeof body === 'object' && body && 'message' in body ? String(body.message) : text.slice(0, 200);
        if (status === 401) this.connection.token?.stale?.();
        throw new KubeApiError(req.method, req.path, status, reason, body, parseRetryAfter(res.headers['retry-after']));
      }
      return { status, body: body as T, headers: res.headersDistinct as Record<string, string[]> };
    } catch (err) {
      if (!(err instanceof KubeApiError)) this.options.observer?.(req.method, req.path, 'error', performance.now() - started);
      throw err;
    }
  }

  /**
   * Opens a watch and calls `onEvent` for each event until the stream ends (resolves), fails (rejects) or
   * `signal` aborts (resolves). The caller resumes from the last resourceVersion it saw. With `idleTimeoutMs`, a
   * stream (or its opening) that carries no bytes for that long is given up with a WatchIdleError: a server that
   * vanished without closing the connection is noticed without waiting for TCP.
   */
  async watch<T>(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent<T>) => void,
    signal: AbortSignal,
    server?: string,
    idleTimeoutMs?: number,
  ): Promise<void> {
    const url = apiUrl(server ?? this.connection.server, path + queryString({ ...query, watch: 1, allowWatchBookmarks: true }));
    const started = performance.now();
    const idle = new AbortController();
    let idleTimer: NodeJS.Timeout | undefined;
    let answered = false;
    const touch = () => {
      if (idleTimeoutMs === undefined) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(
        () => idle.abort(new WatchIdleError(`no data from the watch of ${path} for ${idleTimeoutMs} ms${answered ? ' after it opened' : ''}`, answered)),
        idleTimeoutMs,
      );
    };
    touch();
    // A silent connection says the path to this server may be dead: pooled idle connections to it go too, so the
    // next request opens a fresh one instead of waiting on another silent socket.
    idle.signal.addEventListener('abort', () => this.dropIdleSockets(url), { once: true });
    let res: IncomingMessage;
    try {
      res = await this.send(url, 'GET', 'application/json', undefined, AbortSignal.any([signal, idle.signal]));
    } catch (err) {
      clearTimeout(idleTimer);
      if (signal.aborted) return;
      this.options.observer?.('WATCH', path, 'error', performance.now() - started);
      throw idle.signal.aborted ? idle.signal.reason : err;
    }
    answered = true;
    touch();
    this.options.observer?.('WATCH', path, res.statusCode ?? 0, performance.now() - started);
    if ((res.statusCode ?? 0) !== 200) {
      const text = await readAll(res);
      const body = safeJson(text);
      throw new KubeApiError('WATCH', path, res.statusCode ?? 0, text.slice(0, 200), body, parseRetryAfter(res.headers['retry-after']));
    }
    try {
      await this.follow(res, onEvent, signal, idle.signal, touch);
    } finally {
      clearTimeout(idleTimer);
    }
  }

  private follow<T>(res: IncomingMessage, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal, idle: AbortSignal, touch: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onIdle = () => {
        res.destroy();
        reject(idle.reason);
      };
      if (idle.aborted) {
        onIdle();
        return;
      }
      idle.addEventListener('abort', onIdle, { once: true });
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        touch();
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          try {
            onEvent(JSON.parse(line) as WatchEvent<T>);
          } catch (err) {
            res.destroy();
            reject(err);
            return;
          }
        }
      });
      res.on('end', () => resolve());
      res.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
      res.on('close', () => (idle.aborted ? reject(idle.reason) : resolve()));
    });
  }

  private dropIdleSockets(url: URL): void {
    const agent = this.connection.agent ?? this.agents.get(`${url.protocol}//${url.host}`);
    for (const list of Object.values(agent?.freeSockets ?? {})) for (const socket of list ?? []) socket.destroy();
  }

  /** Closes pooled connections. */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
    this.connection.agent?.destroy();
  }

  private agentFor(url: URL): HttpAgent {
    if (this.connection.agent) return this.connection.agent;
    const key = `${url.protocol}//${url.host}`;
    let agent = this.agents.get(key);
    if (!agent && url.protocol === 'http:') {
      // Plain HTTP only where a kubeconfig says so (`kubectl proxy` on loopback); the agent's own servers are https.
      agent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
      this.agents.set(key, agent);
    }
    if (!agent) {
      const c = this.connection;
      const host = url.hostname.replace(/^\[|\]$/g, '');
      // Verify against the configured name when dialing an address that need not be in the certificate: TLS checks
      // the certificate against `servername` when one is given. (No `checkServerIdentity` key at all: Node 24 refuses
      // one set to undefined, and the default check is the one we want.)
      const servername = c.tlsServerName ?? (isIP(host) ? undefined : host);
      agent = new Agent({
        keepAlive: true,
        maxSockets: 16,
        ca: c.caPem,
        cert: c.clientCertPem,
        key: c.clientKeyPem,
        rejectUnauthorized: !c.insecureSkipTlsVerify,
        ...(servername ? { servername } : {}),
      });
      this.agents.set(key, agent);
    }
    return agent;
  }

  private async send(url: URL, method: string, contentType: string, payload: Buffer | undefined, signal: AbortSignal): Promise<IncomingMessage> {
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.options.userAgent ?? 'pgha' };
    const token = this.connection.token?.();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (this.connection.requestHeaders) Object.assign(headers, await this.connection.requestHeaders());
    if (payload) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = String(payload.length);
    }
    const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, agent: this.agentFor(url), signal });
      req.on('response', resolve);
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
