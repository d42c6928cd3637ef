import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Credentials } from '../config/agent-config';
import { followedPassword } from '../config/followed-password';
import { errorFields, type Logger } from '../log/logger';
import type { ApiBackend, ApiResult } from './backend';
import { type ApiRequest, route, UNSAFE_METHODS } from './router';

export interface ApiServerOptions {
  /** `host:port`; port 0 picks a free one (tests). */
  readonly listen: string;
  readonly backend: ApiBackend;
  readonly logger: Logger;
  /**
   * Basic-auth credentials required for unsafe methods; none means the API is open. A `passwordFile` is read again
   * at each unsafe request, so a rotated Secret takes effect without a restart.
   */
  readonly authentication?: Credentials;
  /** PEM files; both set means HTTPS. */
  readonly certfile?: string;
  readonly keyfile?: string;
}

/** Requests larger than this are refused: no endpoint takes more than a small JSON document. */
const MAX_BODY_BYTES = 1024 * 1024;

function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The REST API on its own port (8008 by default), with Patroni's routes and status codes. */
export class ApiServer {
  private server: Server | undefined;
  private readonly password: (() => string) | undefined;

  constructor(private readonly options: ApiServerOptions) {
    const creds = options.authentication;
    this.password =
      creds &&
      followedPassword(creds, (file, why) => options.logger.warn('the REST API password file cannot be used; keeping the password in force', { file, why }));
  }

  async start(): Promise<void> {
    const o = this.options;
    // Nothing a client sends may take the agent down: every failure of a request ends in an answer (or, when even
    // that fails, a closed socket) and a log line.
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        o.logger.error('REST API request failed', { method: req.method, ...errorFields(err) });
        if (!res.headersSent) send(res, { status: 500, body: 'internal error' });
        else res.destroy();
      });
    };
    this.server =
      o.certfile && o.keyfile ? createHttpsServer({ cert: readFileSync(o.certfile), key: readFileSync(o.keyfile) }, handler) : createHttpServer(handler);
    // Health checks are frequent and short; keep idle connections from piling up.
    this.server.keepAliveTimeout = 5000;
    // A malformed request line or header is answered 400 by Node itself; a broken socket just closes.
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    const { host, port } = splitHostPort(o.listen);
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    o.logger.info('REST API listening', { address: this.address(), tls: Boolean(o.certfile) });
  }

  /** `host:port` actually bound (useful with port 0). */
  address(): string {
    const a = this.server?.address() as AddressInfo | null;
    return a ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : '';
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  private authenticated(req: IncomingMessage): boolean {
    const creds = this.options.authentication;
    if (!creds || !this.password || !UNSAFE_METHODS.has((req.method ?? '').toUpperCase())) return true;
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const sep = decoded.indexOf(':');
    return sep >= 0 && sameSecret(decoded.slice(0, sep), creds.username) && sameSecret(decoded.slice(sep + 1), this.password());
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = parseTarget(req.url ?? '/');
    let result: ApiResult | undefined;
    if (!target) {
      result = { status: 400, body: 'malformed request target' };
    } else {
      let body: string | undefined;
      try {
        body = await readBody(req);
      } catch (err) {
        result =
          err instanceof BodyTooLarge
            ? { status: 413, body: `request body exceeds ${MAX_BODY_BYTES} bytes` }
            : { status: 400, body: 'could not read the request body' };
      }
      if (body !== undefined) {
        const request: ApiRequest = { method: req.method ?? 'GET', path: target.path, query: target.query, body, authenticated: this.authenticated(req) };
        // `route` answers every failure itself (4xx for bad input, 5xx for a failing agent); it never throws.
        result = await route(request, this.options.backend, this.options.logger);
      }
    }
    result ??= { status: 500, body: 'internal error' };
    if (result.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="pgha"');
    if (UNSAFE_METHODS.has((req.method ?? '').toUpperCase())) {
      this.options.logger.info('REST API request', {
        method: req.method,
        path: target?.pathname ?? null,
        status: result.status,
        remote: req.socket.remoteAddress,
      });
    }
    send(res, result);
  }
}

class BodyTooLarge extends Error {}

/**
 * The endpoint (first path segment) and query of a request target, parsed without `new URL` (which throws on
 * targets such as `//` or `//[`). Null for anything that is not an origin-form path.
 */
export function parseTarget(raw: string): { path: string; pathname: string; query: Record<string, string> } | null {
  if (!raw.startsWith('/') || raw.length > 8192) return null;
  const q = raw.indexOf('?');
  const pathname = q >= 0 ? raw.slice(0, q) : raw;
  const query: Record<string, string> = {};
  if (q >= 0) {
    for (const part of raw.slice(q + 1).split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const decode = (t: string) => {
        try {
          return decodeURIComponent(t.replace(/\+/g, ' '));
        } catch {
          return t;
        }
      };
      query[decode(eq >= 0 ? part.slice(0, eq) : part)] = decode(eq >= 0 ? part.slice(eq + 1) : '');
    }
  }
  let path: string;
  try {
    path = decodeURIComponent(pathname.split('/').filter(Boolean)[0] ?? '');
  } catch {
    return null;
  }
  return { path, pathname, query };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, result: ApiResult): void {
  const headers = result.headers ?? {};
  if (result.body === undefined) {
    res.writeHead(result.status, headers).end();
    return;
  }
  const isText = typeof result.body === 'string';
  const payload = isText ? result.body : JSON.stringify(result.body);
  const type = result.contentType ?? (isText ? 'text/plain; charset=utf-8' : 'application/json');
  res.writeHead(result.status, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(payload) }).end(payload);
}
