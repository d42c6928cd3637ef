// Every output of the toolkit, deployed as its users deploy it, runs on a real node: the StatefulSet's Pods start
// from the real image, one member leads, writes go through the primary Service and replicas stream behind the
// replicas Service (both through kube-proxy). Each is secure by default: the REST API refuses changes without the
// Secret's restapi-password, `pgha` in a member's Pod finds it by itself, and the NetworkPolicy selects the members.
// (The node's CNI, Debian's bridge plugin, does not enforce NetworkPolicy, so what it admits is not tested here.)
import { Duration, Size } from 'cdk8s';
import { repoPath } from '../integration/toolkit/tools';
import type { ClusterUnderTest } from './support/cluster-under-test';
import { createSecret, deployHelm, deployOpenShift, deployPlain } from './support/deploy';
import { Cpu } from 'cdk8s-plus-33';
import { E2eSession, SMALL } from './support/e2e-cluster';

const session = new E2eSession();
afterEach(() => session.cleanup());
afterAll(() => session.close());

async function writesAndStreams(c: ClusterUnderTest): Promise<void> {
  const holder = await c.healthy();
  const primary = await c.target();
  await c.sql(primary, 'CREATE TABLE e2e_check (note text)');
  await c.sql(primary, "INSERT INTO e2e_check VALUES ('through the primary Service')");
  const [where] = await c.sql<{ server: string; recovery: boolean }>(primary, 'SELECT host(inet_server_addr()) AS server, pg_is_in_recovery() AS recovery');
  const pods = await c.pods();
  expect(where).toEqual({ server: pods.find((p) => p.name === holder)!.ip, recovery: false });
  // The replicas Service reaches a streaming replica, which has the row.
  const replicas = await c.target(c.d.replicasService);
  const rows = await (async () => {
    for (let i = 0; i < 50; i++) {
      const r = await c
        .sql<{ recovery: boolean; n: string }>(replicas, 'SELECT pg_is_in_recovery() AS recovery, (SELECT count(*) FROM e2e_check) AS n')
        .catch(() => []);
      if (r[0] && Number(r[0].n) === 1) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
    return [];
  })();
  expect(rows).toEqual([{ recovery: true, n: '1' }]);
  // From inside a member, the CLI finds the cluster by the member's own configuration (PATRONICTL_CONFIG_FILE).
  const listed = JSON.parse(await c.exec(holder, ['pgha', 'list', '--json'])) as { leader: string; members: unknown[] };
  expect(listed.leader).toBe(holder);
  expect(listed.members).toHaveLength(c.d.replicas);
  await securedByDefault(c, holder);
}

async function securedByDefault(c: ClusterUnderTest, holder: string): Promise<void> {
  // A change without credentials is refused; with the Secret's restapi-password it is taken. Reads stay open.
  expect((await c.api(holder, 'POST', '/reload', { auth: false })).status).toBe(401);
  expect((await c.api(holder, 'POST', '/reload')).status).toBe(202);
  expect((await c.api(holder, 'GET', '/patroni', { auth: false })).status).toBe(200);
  // pgha in a member's Pod reads the user from the member file and the password from the mounted Secret.
  expect(JSON.parse(await c.exec(holder, ['pgha', 'pause', '--json']))).toEqual({ ok: true, pause: true, via: 'rest' });
  expect((await c.exec(holder, ['pgha', 'resume'])).trim()).toBe('Success: cluster management is resumed');
  // The NetworkPolicy the API server holds selects exactly the members' Pods.
  const policy = JSON.parse(await c.cluster.kubectl(['get', 'networkpolicy', c.d.name, '-n', c.namespace, '-o', 'json'])) as {
    spec: { podSelector: { matchLabels: Record<string, string> } };
  };
  const selector = Object.entries(policy.spec.podSelector.matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const selected = JSON.parse(await c.cluster.kubectl(['get', 'pods', '-n', c.namespace, '-l', selector, '-o', 'json'])) as {
    items: { metadata: { name: string } }[];
  };
  expect(selected.items.map((p) => p.metadata.name).sort()).toEqual((await c.pods()).map((p) => p.name));
}

it('plain manifests (cdk8s synth) applied with kubectl', async () => {
  const ns = await session.namespace('e2e-plain');
  const d = await deployPlain(session.cluster, ns, {
    name: 'plain',
    ttl: Duration.seconds(10),
    loopWait: Duration.seconds(2),
    retryTimeout: Duration.seconds(4),
    cpuRequest: Cpu.millis(100),
    memoryRequest: Size.mebibytes(256),
  });
  await writesAndStreams(session.track(d));
}, 300_000);

it('a Helm release installed with helm', async () => {
  const ns = await session.namespace('e2e-helm');
  const d = await deployHelm(session.cluster, ns, 'orders', {
    ttl: '10',
    loopWait: '2',
    retryTimeout: '4',
    'resources.requests.cpu': SMALL.cpuRequest,
    'resources.requests.memory': SMALL.memoryRequest,
  });
  await writesAndStreams(session.track(d));
}, 300_000);

it('a Helm release with existingSecret: the members take every password from a Secret made beforehand', async () => {
  const ns = await session.namespace('e2e-helm-own');
  const passwords = { 'superuser-password': 'own-su-e2e', 'replication-password': 'own-repl-e2e', 'restapi-password': 'own-api-e2e' };
  await createSecret(session.cluster, ns, 'stock-passwords', passwords);
  const d = await deployHelm(session.cluster, ns, 'stock', {
    existingSecret: 'stock-passwords',
    ttl: '10',
    loopWait: '2',
    retryTimeout: '4',
    'resources.requests.cpu': SMALL.cpuRequest,
    'resources.requests.memory': SMALL.memoryRequest,
  });
  expect(d.superuserPassword).toBe(passwords['superuser-password']);
  expect(d.restApiAuth).toEqual({ username: 'pgha', password: passwords['restapi-password'] });
  // The chart made no Secret of its own.
  const secrets = (await session.cluster.kubectl(['get', 'secrets', '-n', ns, '-o', 'name'])).trim().split('\n');
  expect(secrets).toContain('secret/stock-passwords');
  expect(secrets).not.toContain('secret/stock-credentials');
  // Connecting as postgres with the test's password, replicas streaming with its replication password, the REST API
  // taking its restapi-password: all of writesAndStreams.
  await writesAndStreams(session.track(d));
}, 300_000);

it('the OpenShift Template processed by library-go, run as an arbitrary UID with no passwd entry', async () => {
  const ns = await session.namespace('e2e-openshift');
  const d = await deployOpenShift(session.cluster, ns, repoPath('templates', 'pgha-persistent.yaml'), {
    CLUSTER_NAME: 'billing',
    VOLUME_SIZE: '1Gi',
    CPU_REQUEST: SMALL.cpuRequest,
    MEMORY_REQUEST: SMALL.memoryRequest,
  });
  const c = session.track(d);
  await writesAndStreams(c);
  const pod = (await c.pods())[0]!.name;
  const id = (await c.exec(pod, ['id', '-u'])).trim();
  expect(Number(id)).toBeGreaterThanOrEqual(1000650000);
}, 300_000);
