// The real agent, configured by the synthesized ConfigMap exactly as applied, authenticated with a TokenRequest
// token of the synthesized ServiceAccount, against the synthesized Role: it takes the lock, labels its Pod, renews,
// and releases on SIGTERM, with no request refused.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Chart, Duration } from 'cdk8s';
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { ClusterCredentials, Persistence, PostgresCluster, StoreMode } from '../../../constructs';
import { createTestNamespace, eventually, mintServiceAccountToken, testControlPlane, type TestNamespace } from '../../fixtures/cluster';
import { agentBuild, workDir, writeKubeconfig } from '../agent/harness';
import { grantControllerRoles, serverSideApply, type Manifest } from './apply';

const ROOT = join(__dirname, '..', '..', '..');

function manifests(storeMode: StoreMode): Manifest[] {
  const chart = new Chart(new App(), 'c', { disableResourceNameHashes: true });
  new PostgresCluster(chart, 'alpha', {
    storeMode,
    replicas: 1,
    persistence: Persistence.EPHEMERAL,
    ttl: Duration.seconds(10),
    loopWait: Duration.seconds(2),
    retryTimeout: Duration.seconds(3),
    credentials: ClusterCredentials.fromPasswords({ superuser: 'su', replication: 'repl', restApi: 'api' }),
  });
  return chart.toJson() as Manifest[];
}

type Obj = { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }; data?: Record<string, string> };

describe.each([StoreMode.CONFIG_MAPS, StoreMode.ENDPOINTS])('the agent on the generated ServiceAccount (%s mode)', (storeMode) => {
  let admin: KubeClient;
  let ns: TestNamespace;
  let agent: ChildProcess | undefined;
  let log = '';

  beforeAll(async () => {
    admin = testControlPlane().adminClient();
    await grantControllerRoles(admin);
  });
  afterAll(async () => {
    if (agent && agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    await ns?.delete();
    admin.close();
  });

  it('takes, renews and releases the lock and labels its Pod, with no request refused', async () => {
    const cp = testControlPlane();
    ns = await createTestNamespace(admin, 'tk-agent', { restricted: true });
    await serverSideApply(admin, ns.name, manifests(storeMode), { dryRun: false });
    await eventually(
      'Pod alpha-0',
      async () => (await admin.request({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/pods/alpha-0` })).status === 200 || undefined,
      60_000,
    );

    // What the kubelet would give the container: the ConfigMap file, the Secret files, the downward-API environment
    // and a token of the Pod's ServiceAccount.
    const dir = workDir('tk-agent');
    const cm = await admin.request<Obj>({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/configmaps/alpha-pgha` });
    writeFileSync(join(dir, 'pgha.yaml'), cm.body.data!['pgha.yaml']!);
    writeFileSync(join(dir, 'superuser-password'), 'su');
    writeFileSync(join(dir, 'replication-password'), 'repl');
    writeFileSync(join(dir, 'restapi-password'), 'api');
    const token = await mintServiceAccountToken(admin, ns.name, 'alpha');
    const kubeconfig = writeKubeconfig(dir, 'alpha', cp.state.server, cp.state.caFile, token);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_PATH: join(ROOT, 'node_modules'),
      KUBECONFIG: kubeconfig,
      PATRONI_NAME: 'alpha-0',
      PATRONI_KUBERNETES_NAMESPACE: ns.name,
      PATRONI_KUBERNETES_POD_IP: '192.0.2.10',
      PATRONI_RESTAPI_LISTEN: '127.0.0.1:0',
      PATRONI_SUPERUSER_PASSWORD_FILE: join(dir, 'superuser-password'),
      PATRONI_REPLICATION_PASSWORD_FILE: join(dir, 'replication-password'),
      PATRONI_RESTAPI_PASSWORD_FILE: join(dir, 'restapi-password'),
      // Only the lock and the Kubernetes objects are under test here, not PostgreSQL.
      PGHA_TEST_LOCK_ONLY: '1',
    };
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', process.execPath, agentBuild(), 'agent', '--config', join(dir, 'pgha.yaml')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent = child;
    child.stdout.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const lockPath =
      storeMode === StoreMode.ENDPOINTS ? `/api/v1/namespaces/${ns.name}/endpoints/alpha` : `/api/v1/namespaces/${ns.name}/configmaps/alpha-leader`;
    const lock = () => admin.request<Obj>({ method: 'GET', path: lockPath }).then((r) => r.body.metadata.annotations ?? {});
    const first = await eventually(
      `the lock held by alpha-0 (agent log:\n${log})`,
      async () => ((await lock()).leader === 'alpha-0' ? lock() : undefined),
      30_000,
    );
    await eventually(
      'role label primary on alpha-0',
      async () => {
        const pod = await admin.request<Obj>({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/pods/alpha-0` });
        return pod.body.metadata.labels?.role === 'primary' || undefined;
      },
      30_000,
    );
    await eventually('a renew', async () => ((await lock()).renewTime !== first.renewTime ? true : undefined), 30_000);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect((await lock()).leader).toBeUndefined();
    expect(log).toContain('released the lock');
    expect(log).not.toMatch(/forbidden|"status":403/i);
  });
});
