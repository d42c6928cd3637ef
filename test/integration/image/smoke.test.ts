// The agent image under the restrictions OpenShift and Pod Security `restricted` impose, against the real control
// plane: it bootstraps a single-member cluster, takes the lock, labels its Pod, and shuts down cleanly on SIGTERM.
import { chmodSync, chownSync, existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { Client } from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { agentRoleRules } from '../../../agent/src/kube/rbac-rules';
import { freePort } from '../../control-plane/free-port';
import { createTestNamespace, eventually, mintServiceAccountToken, testControlPlane, type TestNamespace } from '../../fixtures/cluster';
import { ensureSandboxNode, SimulatedPod } from '../../sandbox/pod-sim';
import { type BuiltImage, buildImage, podman, RESTRICTED_RUN_FLAGS } from './image';

const cp = testControlPlane();
const SCOPE = 'smoke';
const MEMBER = 'smoke-0';
const HOST = '127.0.0.60';
let admin: KubeClient;
let ns: TestNamespace;
let img: BuiltImage;
const container = `pgha-smoke-${randomBytes(3).toString('hex')}`;

interface Annotated {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

beforeAll(async () => {
  img = buildImage();
  admin = cp.adminClient();
  ns = await createTestNamespace(admin, 'image');
  await ensureSandboxNode(admin);
  await admin.request({ method: 'POST', path: `/api/v1/namespaces/${ns.name}/serviceaccounts`, body: { metadata: { name: 'pgha' } } });
  await admin.request({
    method: 'POST',
    path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns.name}/roles`,
    body: { metadata: { name: 'pgha' }, rules: agentRoleRules({ useEndpoints: false }) },
  });
  await admin.request({
    method: 'POST',
    path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns.name}/rolebindings`,
    body: {
      metadata: { name: 'pgha' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pgha' },
      subjects: [{ kind: 'ServiceAccount', name: 'pgha', namespace: ns.name }],
    },
  });
}, 25 * 60_000);

afterAll(async () => {
  if (img) podman(img, ['rm', '--force', '--time=0', container]);
  await ns?.delete();
  admin?.close();
});

it('runs as an arbitrary UID with no passwd entry, takes the lock, labels its Pod, and releases the lock on SIGTERM', async () => {
  const apiPort = await freePort(HOST);
  const pgPort = await freePort(HOST);
  const pod = new SimulatedPod({
    client: admin,
    namespace: ns.name,
    name: MEMBER,
    labels: { 'cluster-name': SCOPE },
    podIp: '198.51.100.60',
    containerPorts: [{ name: 'postgresql', containerPort: pgPort }],
    readinessUrl: `http://${HOST}:${apiPort}/readiness`,
  });
  await pod.create();

  // What a Pod gets: a service-account token and the cluster CA, read-only.
  const kube = mkdtempSync(join(tmpdir(), 'pgha-smoke-kube-'));
  const token = await mintServiceAccountToken(admin, ns.name, 'pgha');
  writeFileSync(join(kube, 'ca.crt'), cp.caPem);
  writeFileSync(
    join(kube, 'kubeconfig'),
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${cp.state.server}", certificate-authority: /etc/pgha-kube/ca.crt}}]\n` +
      `users: [{name: u, user: {token: "${token}"}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
  );
  chmodSync(kube, 0o755);
  // A volume as the restricted SCC hands it over: group 0, group-writable.
  const data = mkdtempSync(join(tmpdir(), 'pgha-smoke-data-'));
  chownSync(data, 0, 0);
  chmodSync(data, 0o770);

  const env = {
    PATRONI_SCOPE: SCOPE,
    PATRONI_NAME: MEMBER,
    PATRONI_KUBERNETES_NAMESPACE: ns.name,
    PATRONI_KUBERNETES_POD_IP: '198.51.100.60',
    KUBECONFIG: '/etc/pgha-kube/kubeconfig',
    PATRONI_RESTAPI_LISTEN: `${HOST}:${apiPort}`,
    PATRONI_RESTAPI_CONNECT_ADDRESS: `${HOST}:${apiPort}`,
    PATRONI_POSTGRESQL_LISTEN: `${HOST}:${pgPort}`,
    PATRONI_POSTGRESQL_CONNECT_ADDRESS: `${HOST}:${pgPort}`,
    PATRONI_SUPERUSER_PASSWORD: randomBytes(12).toString('hex'),
    PATRONI_REPLICATION_PASSWORD: randomBytes(12).toString('hex'),
    PATRONI_TTL: '20',
    PATRONI_LOOP_WAIT: '2',
    PATRONI_RETRY_TIMEOUT: '5',
  };
  const run = podman(img, [
    'run',
    '--detach',
    `--name=${container}`,
    ...RESTRICTED_RUN_FLAGS,
    `--volume=${data}:/var/lib/pgha`,
    `--volume=${kube}:/etc/pgha-kube:ro`,
    ...Object.entries(env).map(([k, v]) => `--env=${k}=${v}`),
    img.image,
    'agent',
  ]);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);

  const cm = (name: string) => admin.request<Annotated>({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/configmaps/${name}` });
  const logs = () => podman(img, ['logs', container]).stdout;
  await eventually('the container to take the lock', async () => ((await cm(`${SCOPE}-leader`)).body.metadata.annotations?.leader === MEMBER ? true : undefined), 120_000).catch(
    (err: Error) => {
      throw new Error(`${err.message}\ncontainer log:\n${logs().slice(-4000)}`);
    },
  );
  await eventually('the role label on its Pod', async () => {
    const p = await admin.request<Annotated>({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/pods/${MEMBER}` });
    return p.body.metadata.labels?.role === 'primary' ? true : undefined;
  });
  // The REST API answers as a primary, and PostgreSQL (initialized by the arbitrary UID) takes writes.
  const primary = await eventually('GET /primary to answer 200', async () => {
    const r = await fetch(`http://${HOST}:${apiPort}/primary`).catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  });
  expect(((await primary.json()) as { role: string }).role).toBe('primary');
  const db = new Client({ host: HOST, port: pgPort, user: 'postgres', password: env.PATRONI_SUPERUSER_PASSWORD, database: 'postgres' });
  await db.connect();
  try {
    await db.query('CREATE TABLE smoke (id int)');
    await db.query('INSERT INTO smoke VALUES (1)');
    const settings = await db.query<{ checksums: string }>("SELECT current_setting('data_checksums') AS checksums");
    expect(settings.rows[0]!.checksums).toBe('on');
  } finally {
    await db.end();
  }
  expect(logs()).not.toMatch(/could not look up effective user ID|EACCES|permission denied/i);

  // podman stop sends SIGTERM to PID 1 (tini), which forwards it to the agent.
  const stop = podman(img, ['stop', '--time=60', container]);
  expect(stop.status).toBe(0);
  const state = podman(img, ['inspect', '--format', '{{.State.ExitCode}}', container]);
  expect(state.stdout.trim()).toBe('0');
  const leader = await cm(`${SCOPE}-leader`);
  expect(leader.body.metadata.annotations?.leader ?? '').toBe('');
  // PostgreSQL was stopped before the lock went: the data directory has no postmaster.pid left behind.
  expect(existsSync(join(data, 'data', 'postmaster.pid'))).toBe(false);
  expect(existsSync(join(data, 'data', 'PG_VERSION'))).toBe(true);
  expect(statSync(join(data, 'data')).uid).toBe(1000650000);
}, 5 * 60_000);
