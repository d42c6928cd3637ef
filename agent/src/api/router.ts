import { errorFields, type Logger, silentLogger } from '../log/logger';
import type { ApiBackend, ApiResult } from './backend';
import { HEALTH_PATHS, healthStatus, type Query } from './health';
import { BadRequest, parseFailsafe, parseJsonObject, parseReinitialize, parseRestart, parseSwitchover } from './request-parsing';

export interface ApiRequest {
  readonly method: string;
  /** First path segment, without slashes (`patroni`, `replica`, `` for `/`). */
  readonly path: string;
  readonly query: Query;
  readonly body: string;
  /** Whether the caller passed authentication (always true when the API has none configured). */
  readonly authenticated: boolean;
}

/** Methods that change something: they need authentication when the API has credentials. */
export const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

type Handler = (req: ApiRequest, backend: ApiBackend) => ApiResult | Promise<ApiResult>;

const GET_ROUTES: Readonly<Record<string, Handler>> = {
  patroni: async (_r, b) => ({ status: 200, body: await b.freshStatusJson() }),
  cluster: (_r, b) => ({ status: 200, body: b.cluster() }),
  history: (_r, b) => ({ status: 200, body: b.history() }),
  config: (_r, b) => {
    const config = b.config();
    return config ? { status: 200, body: config } : { status: 502, body: 'Cluster has no dynamic configuration' };
  },
  metrics: (_r, b) => ({ status: 200, body: b.metrics(), contentType: 'text/plain; version=0.0.4; charset=utf-8' }),
  failsafe: (_r, b) => {
    const topology = b.failsafeTopology();
    return topology ? { status: 200, body: topology } : { status: 502, body: 'failsafe_mode is not enabled' };
  },
};

const WRITE_ROUTES: Readonly<Record<string, Readonly<Record<string, Handler>>>> = {
  POST: {
    switchover: (r, b) => b.switchover(parseSwitchover(parseJsonObject(r.body), 'switchover')),
    failover: (r, b) => b.switchover(parseSwitchover(parseJsonObject(r.body), 'failover')),
    restart: (r, b) => b.restart(parseRestart(r.body.trim() ? parseJsonObject(r.body) : {})),
    reload: (_r, b) => b.reload(),
    reinitialize: (r, b) => b.reinitialize(parseReinitialize(r.body.trim() ? parseJsonObject(r.body) : {})),
    failsafe: (r, b) => b.failsafe(parseFailsafe(parseJsonObject(r.body))),
  },
  PATCH: { config: (r, b) => b.patchConfig(parseJsonObject(r.body)) },
  PUT: { config: (r, b) => b.replaceConfig(parseJsonObject(r.body)) },
  DELETE: {
    switchover: (_r, b) => b.cancelSwitchover(),
    restart: (_r, b) => b.cancelRestart(),
  },
};

function getRoute(req: ApiRequest, backend: ApiBackend): ApiResult | Promise<ApiResult> {
  const handler = Object.hasOwn(GET_ROUTES, req.path) ? GET_ROUTES[req.path] : undefined;
  if (handler) return handler(req, backend);
  const status = healthStatus(req.path, req.query, backend.healthFacts());
  if (status !== undefined) return { status, body: backend.statusJson() };
  return {
    status: 404,
    body: { error: `unknown endpoint GET /${req.path}`, endpoints: [...Object.keys(GET_ROUTES), ...HEALTH_PATHS.filter(Boolean)].sort() },
  };
}

/**
 * Answers one request. Never throws: bad input becomes 4xx; a read that fails 500, an action that fails 503, each
 * with a message and a log line.
 */
export async function route(req: ApiRequest, backend: ApiBackend, logger: Logger = silentLogger): Promise<ApiResult> {
  const method = req.method.toUpperCase();
  const failed = (status: number, err: unknown): ApiResult => {
    logger.error('REST API handler failed', { method, endpoint: req.path, status, ...errorFields(err) });
    return { status, body: `request failed: ${err instanceof Error ? err.message : String(err)}` };
  };
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') {
    try {
      const result = await getRoute(req, backend);
      return method === 'GET' ? result : { status: result.status };
    } catch (err) {
      return failed(500, err);
    }
  }
  const routes = Object.hasOwn(WRITE_ROUTES, method) ? WRITE_ROUTES[method] : undefined;
  if (!routes) return { status: 501, body: `Unsupported method ${method}` };
  const handler = Object.hasOwn(routes, req.path) ? routes[req.path] : undefined;
  if (!handler) return { status: 404, body: { error: `unknown endpoint ${method} /${req.path}`, endpoints: Object.keys(routes).sort() } };
  if (!req.authenticated) return { status: 401, body: 'not authenticated' };
  try {
    return await handler(req, backend);
  } catch (err) {
    if (err instanceof BadRequest) return { status: err.status, body: err.message };
    return failed(503, err);
  }
}
