import { readFileSync } from 'node:fs';
import type { Agent as HttpAgent } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors';

/** How to reach and authenticate to one Kubernetes API server. */
export interface KubeConnection {
  /** Base URL, e.g. `https://192.0.2.1:443`. */
  readonly server: string;
  /** PEM bundle of the cluster CA. Verification is never turned off unless `insecureSkipTlsVerify` says so. */
  readonly caPem?: string;
  readonly insecureSkipTlsVerify?: boolean;
  /** Returns the current bearer token; called per request so a rotated token file is picked up. */
  readonly token?: TokenSupplier;
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  /** Name to verify the serving certificate against, when `server` is an address not in its SANs. */
  readonly tlsServerName?: string;
  /**
   * Headers to add to each request, asked for per request (a kubeconfig's exec plugin, OIDC or basic auth, and
   * impersonation). Used by the CLI's kubeconfig connection (`kubectl-config.ts`).
   */
  readonly requestHeaders?: () => Promise<Record<string, string>>;
  /** Dial through this agent (TLS material and `proxy-url` of a kubeconfig) instead of one built from the fields above. */
  readonly agent?: HttpAgent;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Bound service-account tokens rotate (about hourly); re-reading each minute keeps us well inside their lifetime. */
const TOKEN_REREAD_MS = 60_000;

/** The bearer token to send; `stale()`, told that the server refused it (401), makes the next call read it afresh. */
export type TokenSupplier = (() => string) & { readonly stale?: () => void };

/**
 * A token supplier that re-reads `path` at most once per `TOKEN_REREAD_MS`, and at once after a 401: the kubelet
 * may have rotated the file since the last read and the server expired the old token.
 */
export function tokenFromFile(path: string, now: () => number = Date.now): TokenSupplier {
  let cached = '';
  let readAt = -Infinity;
  const supplier = () => {
    const t = now();
    if (t - readAt >= TOKEN_REREAD_MS) {
      cached = readFileSync(path, 'utf8').trim();
      readAt = t;
    }
    return cached;
  };
  return Object.assign(supplier, { stale: () => void (readAt = -Infinity) });
}

/** The connection a Pod gets from its service account and the `KUBERNETES_SERVICE_*` variables. */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env, saDir = SA_DIR): KubeConnection {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new ConfigError('KUBERNETES_SERVICE_HOST', host, 'must be set when running in a pod (no kubeconfig given)');
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    caPem: readFileSync(`${saDir}/ca.crt`, 'utf8'),
    token: tokenFromFile(`${saDir}/token`),
    tlsServerName: 'kubernetes.default.svc',
  };
}

interface KubeConfigFile {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  clusters?: { name: string; cluster: Record<string, string | boolean | undefined> }[];
  users?: { name: string; user: Record<string, string | undefined> }[];
}

function fileOrData(entry: Record<string, unknown>, key: string, baseDir: string): string | undefined {
  const data = entry[`${key}-data`];
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  const file = entry[key];
  if (typeof file === 'string') return readFileSync(file.startsWith('/') ? file : `${baseDir}/${file}`, 'utf8');
  return undefined;
}

/**
 * Reads a kubeconfig file (static credentials only: token, token file, client certificate), for the agent's
 * `kubernetes.kubeconfig` and the test harness: the agent image has no @kubernetes/client-node. The CLI reads
 * kubeconfigs as kubectl does instead (`kubectl-config.ts`). Uses `context` when given, otherwise `current-context`.
 */
export function kubeConfigConnection(path: string, context?: string): KubeConnection & { namespace?: string } {
  const doc = parseYaml(readFileSync(path, 'utf8')) as KubeConfigFile;
  const baseDir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '.';
  const ctxName = context ?? doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName);
  if (!ctx) throw new ConfigError('kubernetes.context', ctxName, `must name a context in ${path}`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.context.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') {
    throw new ConfigError('kubeconfig.cluster', ctx.context.cluster, `must name a cluster with a server in ${path}`);
  }
  const user = doc.users?.find((u) => u.name === ctx.context.user)?.user ?? {};
  if (user.exec || user['auth-provider']) {
    throw new ConfigError('kubeconfig.user', ctx.context.user, 'exec and auth-provider plugins are not supported; use a token or client certificate');
  }
  const tokenFile = user.tokenFile;
  const staticToken = user.token;
  return {
    server: cluster.server.replace(/\/+$/, ''),
    caPem: fileOrData(cluster, 'certificate-authority', baseDir),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
    token: staticToken ? () => staticToken : tokenFile ? tokenFromFile(tokenFile) : undefined,
    clientCertPem: fileOrData(user, 'client-certificate', baseDir),
    clientKeyPem: fileOrData(user, 'client-key', baseDir),
    namespace: ctx.context.namespace,
  };
}
