/**
 * Resolves which cluster the cluster commands talk to, from flags, an optional configuration file (the agent's own,
 * or patronictl's) and the environment, in that order of precedence. Kubernetes: the kubeconfig as kubectl finds it
 * (`--kubeconfig` or the file's `kubernetes.kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`), read by
 * client-node (`kubectl-config.ts`), or the in-cluster service account when there is none. REST credentials:
 * `ctl.authentication` in the file, else `restapi.authentication` key by key from the file, else from the environment
 * (`PATRONI_RESTAPI_USERNAME`; `PATRONI_RESTAPI_PASSWORD` or `PATRONI_RESTAPI_PASSWORD_FILE`). A member's Pod has the
 * username in its file (`PATRONICTL_CONFIG_FILE`) and the password file in its environment, so `kubectl exec` works.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { readPasswordFile } from '../config/agent-config';
import { inClusterConnection, type KubeConnection } from '../kube/kube-connection';
import { kubeconfigFiles, kubectlConnection } from '../kube/kubectl-config';
import { UsageError } from './usage-error';
import type { TargetOptions } from './ctl-args';

export interface CtlTarget {
  readonly scope: string;
  readonly namespace: string;
  readonly useEndpoints: boolean;
  /** `<scope_label>=<scope>` plus `kubernetes.labels`: the selector of the cluster's Pods. */
  readonly selectorLabels: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly scopeLabel: string;
  readonly connection: KubeConnection;
  readonly auth?: { readonly username: string; readonly password: string };
  /** Skip certificate checks of HTTPS member APIs (`ctl.insecure`). */
  readonly insecure: boolean;
  readonly cacert?: string;
}

type Doc = Record<string, unknown>;

function section(doc: Doc, key: string): Doc {
  const v = doc[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Doc) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'string' && ['true', 'on', 'yes', '1'].includes(v.toLowerCase()));
}

type ReadFile = (p: string) => string;
const readUtf8: ReadFile = (p) => readFileSync(p, 'utf8');

/** A password given inline, else read from `passwordFile` (one trailing newline dropped, as the agent does). */
function passwordOf(inline: unknown, passwordFile: unknown, where: string, read: ReadFile): string | undefined {
  const file = str(passwordFile);
  if (str(inline) !== undefined || file === undefined) return str(inline);
  try {
    return str(readPasswordFile(file, read));
  } catch (err) {
    throw new UsageError(`${where} ${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

function credentials(username: string | undefined, password: string | undefined): { username: string; password: string } | undefined {
  return username !== undefined && password !== undefined ? { username, password } : undefined;
}

/** `ctl.authentication` (patronictl's section) whole, else `restapi.authentication` key by key, file before environment. */
function restCredentials(file: Doc, env: NodeJS.ProcessEnv, read: ReadFile): { username: string; password: string } | undefined {
  const ctl = section(section(file, 'ctl'), 'authentication');
  const fromCtl = credentials(str(ctl.username), str(ctl.password));
  if (fromCtl) return fromCtl;
  const api = section(section(file, 'restapi'), 'authentication');
  const username = str(api.username) ?? str(env.PATRONI_RESTAPI_USERNAME);
  const password =
    passwordOf(api.password, api.password_file, 'restapi.authentication.password_file', read) ??
    passwordOf(env.PATRONI_RESTAPI_PASSWORD, env.PATRONI_RESTAPI_PASSWORD_FILE, 'PATRONI_RESTAPI_PASSWORD_FILE', read);
  return credentials(username, password);
}

/** Reads the configuration file, if any, as a plain document. */
export function readTargetFile(path: string | undefined, read: ReadFile = readUtf8): Doc {
  if (!path) return {};
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    throw new UsageError(`-c ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const doc = parseYaml(text) as unknown;
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`-c ${path}: the file must be a YAML mapping`);
  return doc as Doc;
}

/** Everything but the connection: pure but for reading a password file through `read`, so the precedence rules are unit-tested. */
export function resolveTargetSettings(opts: TargetOptions, file: Doc, env: NodeJS.ProcessEnv, read: ReadFile = readUtf8) {
  const k8s = section(file, 'kubernetes');
  const scope = opts.scope ?? str(file.scope) ?? str(env.PATRONI_SCOPE);
  if (!scope) throw new UsageError('no cluster named: pass --scope NAME, -c FILE with a scope, or set PATRONI_SCOPE');
  // Unset: the kubeconfig context's namespace, else "default" (resolveTarget).
  const namespace = opts.namespace ?? str(k8s.namespace) ?? str(file.namespace) ?? str(env.PATRONI_KUBERNETES_NAMESPACE);
  const scopeLabel = str(k8s.scope_label) ?? str(env.PATRONI_KUBERNETES_SCOPE_LABEL) ?? 'cluster-name';
  let labels: Record<string, string> = {};
  const rawLabels: unknown = k8s.labels ?? (env.PATRONI_KUBERNETES_LABELS ? JSON.parse(env.PATRONI_KUBERNETES_LABELS) : undefined);
  if (typeof rawLabels === 'object' && rawLabels !== null) labels = Object.fromEntries(Object.entries(rawLabels).map(([a, b]) => [a, String(b)]));
  const useEndpoints = opts.useEndpoints ?? (k8s.use_endpoints !== undefined ? truthy(k8s.use_endpoints) : truthy(env.PATRONI_KUBERNETES_USE_ENDPOINTS));
  const ctl = section(file, 'ctl');
  const auth = restCredentials(file, env, read);
  return {
    scope,
    namespace,
    scopeLabel,
    labels,
    selectorLabels: { ...labels, [scopeLabel]: scope },
    useEndpoints,
    auth,
    insecure: truthy(ctl.insecure),
    cacert: str(ctl.cacert),
    // An explicit file; otherwise KUBECONFIG and ~/.kube/config are looked at as kubectl does (kubeconfigFiles).
    kubeconfig: opts.kubeconfig ?? str(k8s.kubeconfig),
    context: opts.context ?? str(k8s.context) ?? str(env.PATRONI_KUBERNETES_CONTEXT),
  };
}

export async function resolveTarget(opts: TargetOptions, env: NodeJS.ProcessEnv): Promise<CtlTarget> {
  // As patronictl: -c, else PATRONICTL_CONFIG_FILE (the generated Pods set it to the member's own file).
  const s = resolveTargetSettings(opts, readTargetFile(opts.configFile ?? (env.PATRONICTL_CONFIG_FILE || undefined)), env);
  const files = kubeconfigFiles(s.kubeconfig, env);
  if (!files) {
    if (s.context) throw new UsageError(`kubernetes context ${s.context} given, but no kubeconfig: pass --kubeconfig FILE, or set KUBECONFIG`);
    return { ...s, namespace: s.namespace ?? 'default', connection: inClusterConnection(env) };
  }
  const { namespace: contextNamespace, ...connection } = await kubectlConnection(files, s.context);
  return { ...s, namespace: s.namespace ?? contextNamespace ?? 'default', connection };
}
