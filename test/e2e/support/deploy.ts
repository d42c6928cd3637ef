import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { App, Chart } from 'cdk8s';
import { parse as parseYaml, parseAllDocuments, stringify as toYaml } from 'yaml';
import { ClusterCredentials, DEFAULT_RESTAPI_USERNAME, PostgresCluster, RESTAPI_PASSWORD_KEY, type PostgresClusterProps } from '../../../constructs';
import { helmChartFiles } from '../../../src/outputs/helm-chart';
import { run, toolBinary } from '../../integration/toolkit/tools';
import type { RealCluster } from '../../node/real-cluster';

/** What a test needs to know about a deployed cluster, whichever output it came from. */
export interface Deployment {
  readonly namespace: string;
  /** The cluster name: the agent's scope, the StatefulSet's name. */
  readonly name: string;
  readonly primaryService: string;
  readonly replicasService: string;
  readonly superuserPassword: string;
  /** The REST API's basic auth (the Secret's `restapi-password`); absent when the deployment turned it off. */
  readonly restApiAuth?: { readonly username: string; readonly password: string };
  readonly replicas: number;
  readonly roleLabel: string;
  readonly leaderLabelValue: string;
  readonly followerLabelValue: string;
  /** The Helm release, for `helm upgrade`/`uninstall`. */
  readonly release?: string;
}

type Manifest = { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };

// Under the run's work root (made by the e2e global setup and removed by its teardown).
const work = mkdtempSync(join(process.env.PGHA_E2E_WORK_ROOT ?? tmpdir(), 'pgha-e2e-'));

/** Removes the files this module wrote (manifests, the chart, helm's caches); call once a test file is done. */
export function removeDeployFiles(): void {
  rmSync(work, { recursive: true, force: true });
}

async function applyManifests(cluster: RealCluster, namespace: string, objects: readonly Manifest[]): Promise<void> {
  const file = join(work, `${namespace}-${Date.now()}.yaml`);
  writeFileSync(file, objects.map((o) => toYaml(o)).join('---\n'));
  await cluster.kubectl(['apply', '--server-side', '--field-manager=pgha-e2e', '-n', namespace, '-f', file]);
}

/**
 * The Secret the README's Plain YAML section has the user create (with `restapi-password` unless auth is off), or
 * the one a Helm release's `existingSecret` names.
 */
export async function createSecret(cluster: RealCluster, namespace: string, name: string, passwords: Readonly<Record<string, string>>): Promise<void> {
  await cluster.kubectl(['create', 'secret', 'generic', name, '-n', namespace, ...Object.entries(passwords).map(([key, pw]) => `--from-literal=${key}=${pw}`)]);
}

/** Changes keys of an existing Secret (`kubectl patch` with stringData), as a user rotating passwords does. */
export async function patchSecret(cluster: RealCluster, namespace: string, name: string, passwords: Readonly<Record<string, string>>): Promise<void> {
  await cluster.kubectl(['patch', 'secret', name, '-n', namespace, '--type', 'merge', '-p', JSON.stringify({ stringData: passwords })]);
}

/** The credentials Secret's keys, decoded. */
async function secretData(cluster: RealCluster, namespace: string, name: string): Promise<Record<string, string>> {
  const secret = JSON.parse(await cluster.kubectl(['get', 'secret', name, '-n', namespace, '-o', 'json'])) as { data: Record<string, string> };
  return Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

function restApiAuth(username: string, passwords: Readonly<Record<string, string>>): Deployment['restApiAuth'] {
  const password = passwords[RESTAPI_PASSWORD_KEY];
  return password === undefined ? undefined : { username, password };
}

/** The plain manifests: the construct synthesized by cdk8s (as `cdk8s synth` does), applied with kubectl. */
export async function deployPlain(cluster: RealCluster, namespace: string, props: PostgresClusterProps & { readonly name: string }): Promise<Deployment> {
  const secret = `${props.name}-credentials`;
  const app = new App();
  const chart = new Chart(app, 'e2e', { disableResourceNameHashes: true, namespace });
  const pg = new PostgresCluster(chart, props.name, { credentials: ClusterCredentials.fromSecret(secret), ...props });
  const auth = pg.spec.restApiUsername !== undefined;
  await createSecret(cluster, namespace, secret, {
    'superuser-password': 'su-pw-e2e',
    'replication-password': 'repl-pw-e2e',
    ...(auth ? { [RESTAPI_PASSWORD_KEY]: 'api-pw-e2e' } : {}),
  });
  await applyManifests(cluster, namespace, chart.toJson() as Manifest[]);
  const passwords = await secretData(cluster, namespace, secret);
  return {
    namespace,
    name: pg.clusterName,
    primaryService: pg.primaryServiceName,
    replicasService: pg.replicasServiceName,
    superuserPassword: passwords['superuser-password']!,
    restApiAuth: restApiAuth(pg.spec.restApiUsername ?? DEFAULT_RESTAPI_USERNAME, passwords),
    replicas: pg.spec.replicas,
    roleLabel: pg.spec.roleLabel,
    leaderLabelValue: pg.spec.leaderLabelValue,
    followerLabelValue: pg.spec.followerLabelValue,
  };
}

let chartDir: string | undefined;
/** The chart `npm run synth` writes, rendered from the same model (written once per test file). */
export function helmChart(): string {
  if (!chartDir) {
    chartDir = join(work, 'chart', 'pgha');
    for (const [path, text] of Object.entries(helmChartFiles())) {
      mkdirSync(dirname(join(chartDir, path)), { recursive: true });
      writeFileSync(join(chartDir, path), text);
    }
  }
  return chartDir;
}

export function helm(cluster: RealCluster, args: readonly string[]): string {
  return run(toolBinary('helm'), args, {
    KUBECONFIG: cluster.state.kubeconfig,
    HELM_CACHE_HOME: join(work, 'helm-cache'),
    HELM_CONFIG_HOME: join(work, 'helm-config'),
    HELM_DATA_HOME: join(work, 'helm-data'),
  });
}

const setArgs = (values: Readonly<Record<string, string>>) => Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]);

/**
 * A Helm release of the chart, installed with the real helm. Passwords come from the chart (generated), or from
 * `existingSecret`. `valuesFile` holds values `--set` cannot write well (lists and maps of objects), given as `-f`.
 */
export async function deployHelm(
  cluster: RealCluster,
  namespace: string,
  release: string,
  values: Readonly<Record<string, string>> = {},
  valuesFile?: Readonly<Record<string, unknown>>,
): Promise<Deployment> {
  const fileArgs: string[] = [];
  if (valuesFile) {
    const file = join(work, `${namespace}-${release}-values.yaml`);
    writeFileSync(file, toYaml(valuesFile));
    fileArgs.push('-f', file);
  }
  helm(cluster, ['install', release, helmChart(), '-n', namespace, ...fileArgs, ...setArgs(values)]);
  return helmDeployment(cluster, namespace, release, values);
}

export async function helmDeployment(
  cluster: RealCluster,
  namespace: string,
  release: string,
  values: Readonly<Record<string, string>> = {},
): Promise<Deployment> {
  const name = values.clusterName ?? release;
  const passwords = await secretData(cluster, namespace, values.existingSecret ?? `${name}-credentials`);
  return {
    namespace,
    name,
    release,
    primaryService: name,
    replicasService: `${name}-replicas`,
    superuserPassword: passwords['superuser-password']!,
    // With authentication off the Secret may still hold an earlier revision's restapi-password, not in force.
    restApiAuth:
      values['restApi.authentication.enabled'] === 'false'
        ? undefined
        : restApiAuth(values['restApi.authentication.username'] ?? DEFAULT_RESTAPI_USERNAME, passwords),
    replicas: Number(values.replicas ?? 3),
    roleLabel: values.roleLabel ?? 'role',
    leaderLabelValue: values.leaderLabelValue ?? 'primary',
    followerLabelValue: values.followerLabelValue ?? 'replica',
  };
}

/**
 * An OpenShift Template processed by OpenShift's own processor (library-go), then admitted as OpenShift's
 * restricted-v2 SCC would: the Pods get a UID from the project's range (no passwd entry for it in the image), an
 * fsGroup from the same range, and group 0. Nothing else is changed.
 */
export async function deployOpenShift(
  cluster: RealCluster,
  namespace: string,
  template: string,
  params: Readonly<Record<string, string>>,
): Promise<Deployment> {
  const out = run(toolBinary('template-process'), ['-f', template, ...Object.entries(params).flatMap(([k, v]) => ['-p', `${k}=${v}`])]);
  const list = parseYaml(out) as { items: Manifest[] };
  const uid = 1000650000 + Math.floor(Math.random() * 9999);
  for (const o of list.items) {
    if (o.kind !== 'StatefulSet') continue;
    const pod = (o.spec as { template: { spec: { securityContext?: Record<string, unknown> } } }).template.spec;
    pod.securityContext = { ...pod.securityContext, runAsUser: uid, fsGroup: uid };
  }
  await applyManifests(cluster, namespace, list.items);
  const name = params.CLUSTER_NAME!;
  const passwords = await secretData(cluster, namespace, params.CREDENTIALS_SECRET ?? `${name}-credentials`);
  return {
    namespace,
    name,
    // The Template names both Services after CLUSTER_NAME.
    primaryService: name,
    replicasService: `${name}-replicas`,
    superuserPassword: passwords['superuser-password']!,
    restApiAuth: restApiAuth(DEFAULT_RESTAPI_USERNAME, passwords),
    replicas: Number(params.REPLICAS ?? 3),
    roleLabel: 'role',
    leaderLabelValue: 'primary',
    followerLabelValue: 'replica',
  };
}

/** Parses multi-document YAML (helm template output) into objects. */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((o): o is Manifest => o !== null);
}
