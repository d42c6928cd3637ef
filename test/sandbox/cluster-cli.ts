// `npm run sandbox -- cluster <up|status|down>`: a pgha cluster deployed on the sandbox's real cluster from one of
// the toolkit's outputs, exactly as a user deploys it.
//   up [--members N] [--from helm|plain|openshift] [--nodes N]
//        starts the sandbox cluster if needed, imports the current agent image, deploys the output into namespace
//        pgha-sandbox, waits until one member leads and the others stream, and writes connection files for psql on
//        this machine (through relays into the primary and replicas Services, routed by kube-proxy).
//   status   the Pods with their roles, and `pgha list`
//   down     removes the deployment (helm uninstall, or the namespace) and its relays
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cpu } from 'cdk8s-plus-33';
import { Duration, Size } from 'cdk8s';
import { KubeApiError } from '../../agent/src/kube/kube-error';
import { buildImage } from '../fixtures/agent-image';
import { eventually } from '../fixtures/cluster';
import { stopProcess, type ManagedProcess } from '../control-plane/processes';
import { ClusterUnderTest } from '../e2e/support/cluster-under-test';
import { deployHelm, deployOpenShift, deployPlain, helm, type Deployment } from '../e2e/support/deploy';
import { RealCluster } from '../node/real-cluster';

export interface SandboxPaths {
  readonly root: string;
  readonly sandbox: string;
  /** The real cluster's work directory. */
  readonly nodeDir: string;
  readonly clusterState: string;
  readonly kubeconfig: string;
}

const NAMESPACE = 'pgha-sandbox';
const OUTPUTS = ['helm', 'plain', 'openshift'] as const;
type Output = (typeof OUTPUTS)[number];

interface DeployedState {
  readonly from: Output;
  readonly deployment: Deployment;
  readonly relays: readonly ManagedProcess[];
  readonly primary: string;
  readonly replicas: string;
}

const dir = (p: SandboxPaths) => join(p.sandbox, 'cluster');
const stateFile = (p: SandboxPaths) => join(dir(p), 'state.json');

function readState(p: SandboxPaths): DeployedState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(p), 'utf8')) as DeployedState;
  } catch {
    return undefined;
  }
}

function flag(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** The sandbox's own timings: failovers in seconds, for trying them by hand. */
const TIMINGS = { ttl: 10, loopWait: 2, retryTimeout: 4 };

async function deploy(cluster: RealCluster, from: Output, members: number, root: string): Promise<Deployment> {
  switch (from) {
    case 'helm':
      return deployHelm(cluster, NAMESPACE, 'demo', {
        replicas: String(members),
        ttl: String(TIMINGS.ttl),
        loopWait: String(TIMINGS.loopWait),
        retryTimeout: String(TIMINGS.retryTimeout),
        'resources.requests.cpu': '100m',
      });
    case 'plain':
      return deployPlain(cluster, NAMESPACE, {
        name: 'demo',
        replicas: members,
        ttl: Duration.seconds(TIMINGS.ttl),
        loopWait: Duration.seconds(TIMINGS.loopWait),
        retryTimeout: Duration.seconds(TIMINGS.retryTimeout),
        cpuRequest: Cpu.millis(100),
        memoryRequest: Size.mebibytes(256),
      });
    case 'openshift':
      return deployOpenShift(cluster, NAMESPACE, join(root, 'templates', 'pgha-persistent.yaml'), {
        CLUSTER_NAME: 'demo',
        REPLICAS: String(members),
        CPU_REQUEST: '100m',
        VOLUME_SIZE: '1Gi',
      });
  }
}

function printSummary(s: DeployedState, p: SandboxPaths): void {
  const [host, port] = s.primary.split(':');
  console.log(`sandbox cluster ${s.deployment.name} in namespace ${NAMESPACE}, from the ${s.from} output`);
  console.log(`  primary Service   ${s.primary}   env $(cat ${join(dir(p), 'connection.env')}) psql   (or psql -h ${host} -p ${port} -U postgres)`);
  console.log(`  replicas Service  ${s.replicas}   env $(cat ${join(dir(p), 'replicas.env')}) psql`);
  console.log(`  kubectl           KUBECONFIG=${p.kubeconfig} kubectl -n ${NAMESPACE} get pods -L role`);
  console.log(`  cli               node build/agent/src/main.js list --scope ${s.deployment.name} -n ${NAMESPACE} --kubeconfig ${p.kubeconfig}`);
}

async function up(argv: readonly string[], p: SandboxPaths, ensureUp: (argv: readonly string[]) => Promise<RealCluster>): Promise<number> {
  const members = Number(flag(argv, '--members') ?? 3);
  const from = (flag(argv, '--from') ?? 'helm') as Output;
  if (!Number.isInteger(members) || members < 1 || members > 9) {
    console.error(`sandbox cluster: --members must be a whole number from 1 to 9; got ${JSON.stringify(flag(argv, '--members'))}`);
    return 2;
  }
  if (!OUTPUTS.includes(from)) {
    console.error(`sandbox cluster: --from must be one of ${OUTPUTS.join(', ')}; got ${JSON.stringify(from)}`);
    return 2;
  }
  const existing = readState(p);
  if (existing && existsSync(p.clusterState)) {
    console.log('sandbox cluster: already deployed (run cluster down first to deploy another)');
    printSummary(existing, p);
    return 0;
  }
  const cluster = await ensureUp(argv);
  // The image may have been rebuilt since the nodes imported it.
  await cluster.importImage(buildImage().archive);
  const admin = cluster.adminClient();
  try {
    await admin.request({
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { metadata: { name: NAMESPACE, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' } } },
    });
    await eventually(`service account default in ${NAMESPACE}`, async () => {
      await admin.request({ method: 'GET', path: `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/default` });
      return true;
    });
    console.log(`sandbox cluster: deploying ${members} members from the ${from} output`);
    const d = await deploy(cluster, from, members, p.root);
    const c = new ClusterUnderTest(cluster, admin, d);
    const holder = await c.healthy(300_000);
    console.log(`sandbox cluster: ${holder} leads, ${members - 1} replica(s) streaming`);
    const primary = await cluster.serviceRelay(NAMESPACE, d.primaryService, 5432, { outliveCaller: true });
    const replicas = await cluster.serviceRelay(NAMESPACE, d.replicasService, 5432, { outliveCaller: true });
    mkdirSync(dir(p), { recursive: true });
    const env = (r: { host: string; port: number }) =>
      `PGHOST=${r.host}\nPGPORT=${r.port}\nPGUSER=postgres\nPGPASSWORD=${d.superuserPassword}\nPGDATABASE=postgres\n`;
    writeFileSync(join(dir(p), 'connection.env'), env(primary), { mode: 0o600 });
    writeFileSync(join(dir(p), 'replicas.env'), env(replicas), { mode: 0o600 });
    const state: DeployedState = {
      from,
      deployment: d,
      relays: [...primary.processes, ...replicas.processes],
      primary: `${primary.host}:${primary.port}`,
      replicas: `${replicas.host}:${replicas.port}`,
    };
    writeFileSync(stateFile(p), JSON.stringify(state, null, 2), { mode: 0o600 });
    printSummary(state, p);
    return 0;
  } finally {
    admin.close();
  }
}

async function status(p: SandboxPaths): Promise<number> {
  const s = readState(p);
  if (!s || !existsSync(p.clusterState)) {
    console.log('sandbox cluster: not deployed');
    return 1;
  }
  const cluster = RealCluster.attach(p.clusterState);
  printSummary(s, p);
  process.stdout.write(await cluster.kubectl(['-n', NAMESPACE, 'get', 'pods', '-L', s.deployment.roleLabel, '-o', 'wide']));
  const main = join(p.root, 'build', 'agent', 'src', 'main.js');
  const r = spawnSync(process.execPath, [main, 'list', '--scope', s.deployment.name, '-n', NAMESPACE, '--kubeconfig', p.kubeconfig], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  return r.status === 0 ? 0 : 1;
}

/** Removes the deployment and its relays; harmless when nothing is deployed. */
export async function down(p: SandboxPaths): Promise<number> {
  const s = readState(p);
  if (s) for (const r of s.relays) await stopProcess(r, 1000);
  if (s && existsSync(p.clusterState)) {
    const cluster = RealCluster.attach(p.clusterState);
    if (s.deployment.release) helm(cluster, ['uninstall', s.deployment.release, '-n', NAMESPACE]);
    const admin = cluster.adminClient();
    try {
      await admin.request({ method: 'DELETE', path: `/api/v1/namespaces/${NAMESPACE}` });
      await eventually(
        `namespace ${NAMESPACE} to be deleted`,
        async () => {
          try {
            await admin.request({ method: 'GET', path: `/api/v1/namespaces/${NAMESPACE}` });
            return undefined;
          } catch (err) {
            if (err instanceof KubeApiError && err.status === 404) return true;
            throw err;
          }
        },
        180_000,
        500,
      );
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    } finally {
      admin.close();
    }
  }
  rmSync(dir(p), { recursive: true, force: true });
  console.log(s ? `sandbox cluster: ${s.deployment.name} removed` : 'sandbox cluster: nothing deployed');
  return 0;
}

export async function clusterCommand(argv: readonly string[], p: SandboxPaths, ensureUp: (argv: readonly string[]) => Promise<RealCluster>): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'up') return up(rest, p, ensureUp);
  if (sub === 'status') return status(p);
  if (sub === 'down') return down(p);
  console.error(`usage: npm run sandbox -- cluster <up [--members N] [--from helm|plain|openshift] [--nodes N]|status|down>; got ${JSON.stringify(sub ?? '')}`);
  return 2;
}
