/**
 * The connection `pgha` makes from a laptop or a CI job: kubeconfig files read the way kubectl reads them, through
 * @kubernetes/client-node (exec credential plugins, OIDC, tokens, client certificates, `proxy-url`,
 * `tls-server-name`, `http://` servers such as `kubectl proxy`, server URLs with a path prefix).
 *
 * client-node is loaded here only, and only when a kubeconfig is used, so the agent (in-cluster, `kube-connection.ts`)
 * never pays its start-up time and memory. The agent image does not carry it.
 */
import { existsSync } from 'node:fs';
import type { Agent } from 'node:http';
import type { RequestOptions } from 'node:https';
import { delimiter, join } from 'node:path';
import type * as ClientNode from '@kubernetes/client-node';
import { ConfigError } from '../errors';
import type { KubeConnection } from './kube-connection';

/** What kubectl would read: the explicit file, else every file `KUBECONFIG` lists, else `~/.kube/config`. */
export interface KubeconfigFiles {
  readonly files: readonly string[];
  /** Where the list came from, for messages. */
  readonly source: '--kubeconfig' | 'KUBECONFIG' | '~/.kube/config';
}

/**
 * The kubeconfig files to read, or undefined when there are none (then the in-cluster service account is used).
 * As kubectl: an explicit file must exist; entries of `KUBECONFIG` that do not exist are skipped, but a `KUBECONFIG`
 * naming no existing file is an error rather than a silent fall back to another cluster.
 */
export function kubeconfigFiles(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  exists: (p: string) => boolean = existsSync,
): KubeconfigFiles | undefined {
  if (explicit) {
    if (!exists(explicit)) throw new ConfigError('kubeconfig', explicit, 'must be an existing kubeconfig file');
    return { files: [explicit], source: '--kubeconfig' };
  }
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  if (listed.length) {
    const present = listed.filter((p) => exists(p));
    if (!present.length) throw new ConfigError('KUBECONFIG', env.KUBECONFIG, 'must list at least one existing kubeconfig file');
    return { files: present, source: 'KUBECONFIG' };
  }
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  return home && exists(home) ? { files: [home], source: '~/.kube/config' } : undefined;
}

type KubeConfig = ClientNode.KubeConfig;

function loadClientNode(): typeof ClientNode {
  try {
    // A plain require: Node 20.19+ loads this ES module synchronously, and the CommonJS build keeps it lazy.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@kubernetes/client-node') as typeof ClientNode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new ConfigError(
      'kubeconfig',
      'given',
      'reading a kubeconfig needs @kubernetes/client-node, which this installation lacks (the agent image has only the in-cluster client): run pgha from the npm package, or inside a Pod without a kubeconfig',
    );
  }
}

/**
 * Merges the files with kubectl's rules: the first file to set `current-context` wins, and the first cluster, user or
 * context of a name wins (client-node's own merge takes the last current-context and refuses repeated names).
 */
function merged(lib: typeof ClientNode, files: readonly string[]): KubeConfig {
  const configs = files.map((file) => {
    const kc = new lib.KubeConfig();
    kc.loadFromFile(file);
    return kc;
  });
  const firstByName = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  const out = new lib.KubeConfig();
  out.loadFromOptions({
    clusters: firstByName(configs.map((c) => c.getClusters())),
    users: firstByName(configs.map((c) => c.getUsers())),
    contexts: firstByName(configs.map((c) => c.getContexts())),
    currentContext: configs.map((c) => c.getCurrentContext()).find((name) => !!name) ?? '',
  });
  return out;
}

/** Headers and the dialing agent client-node derives for the current context (auth plugins run here). */
async function applied(kc: KubeConfig): Promise<{ headers: Record<string, string>; agent?: Agent }> {
  const opts: RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
  if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  return { headers, agent: opts.agent && typeof opts.agent === 'object' ? opts.agent : undefined };
}

/**
 * Connects as kubectl would with `files` and `context` (else the files' current-context). The returned connection
 * asks client-node for its headers on every request, so an exec plugin's expiring token is renewed.
 */
export async function kubectlConnection(found: KubeconfigFiles, context?: string): Promise<KubeConnection & { namespace?: string }> {
  const lib = loadClientNode();
  const where = `${found.source} (${found.files.join(delimiter)})`;
  const kc = merged(lib, found.files);
  const name = context || kc.getCurrentContext();
  if (!name) throw new ConfigError('kubernetes.context', context, `must be given: ${where} sets no current-context`);
  const ctx = kc.getContextObject(name);
  if (!ctx)
    throw new ConfigError(
      'kubernetes.context',
      name,
      `must name a context in ${where}; it has: ${
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || 'none'
      }`,
    );
  kc.setCurrentContext(name);
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new ConfigError('kubeconfig.cluster', ctx.cluster, `must name a cluster with a server in ${where}`);
  if (!kc.getCurrentUser()) throw new ConfigError('kubeconfig.user', ctx.user, `must name a user in ${where}`);
  // client-node refuses an http:// server unless TLS checks are off; there is no TLS to check on one (kubectl proxy).
  if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
    kc.clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, skipTLSVerify: true } : c));
  }
  const first = await authenticate(kc, name);
  return {
    server: cluster.server.replace(/\/+$/, ''),
    agent: first.agent,
    requestHeaders: async () => (await authenticate(kc, name)).headers,
    namespace: ctx.namespace,
  };
}

async function authenticate(kc: KubeConfig, context: string): Promise<{ headers: Record<string, string>; agent?: Agent }> {
  try {
    return await applied(kc);
  } catch (err) {
    throw new Error(
      `kubeconfig context ${context}: cannot get credentials for user ${kc.getCurrentUser()?.name}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}
