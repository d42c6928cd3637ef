// Every output of the toolkit, deployed as its users deploy it, runs on a real node: the StatefulSet's Pods start
// from the real image, one member leads, writes go through the primary Service and replicas stream behind the
// replicas Service (both through kube-proxy). Each is secure by default: the REST API refuses changes without the
// Secret's restapi-password, `pgha` in a member's Pod finds it by itself, and the NetworkPolicy selects the members.
// (The node's CNI, Debian's bridge plugin, does not enforce NetworkPolicy, so what it admits is not tested here.)
import { Duration, Size } from 'cdk8s';
import { repoPath } from '../integration/toolkit/tools';
import type { ClusterUnderTest } from './support/cluster-under-test';
import { createSecret, deployHelm, deployOpenShift, deployPlain, helm, patchSecret } from './support/deploy';
import { eventually } from '../fixtures/cluster';
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
  // helm test: the chart's test Pod writes through the read-write Service with the Secret's superuser password
  // (its log is psql's answer to the CREATE TEMP TABLE).
  const tested = helm(session.cluster, ['test', 'orders', '-n', ns, '--timeout', '3m', '--logs']);
  expect(tested).toMatch(/TEST SUITE:\s+orders-test-connection[\s\S]*Phase:\s+Succeeded/);
  expect(tested).toContain('CREATE TABLE');
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
  const c = session.track(d);
  await writesAndStreams(c);
  await rotateSecret(c, 'stock-passwords', passwords);
}, 600_000);

/**
 * The user changes every password in the Secret. The kubelet updates each member's mounted files on its own sync (up
 * to a minute or so); the agents follow them and the primary stores the new passwords. Nothing restarts, nobody is
 * locked out for longer than a member's files lag behind, and the old passwords stop working.
 */
async function rotateSecret(c: ClusterUnderTest, secret: string, before: Readonly<Record<string, string>>): Promise<void> {
  const restarts = (await c.pods()).map((p) => [p.name, p.restarts]);
  const rotated = { 'superuser-password': 'rotated-su-e2e', 'replication-password': 'rotated-repl-e2e', 'restapi-password': 'rotated-api-e2e' };
  await patchSecret(c.cluster, c.namespace, secret, rotated);
  const primary = await c.target();
  const withNew = { ...primary, password: rotated['superuser-password'] };
  await eventually(
    'the new superuser password works through the primary Service',
    () => c.sql(withNew, 'SELECT 1 AS one').catch(() => undefined),
    240_000,
    1000,
  );
  await expect(c.sql(primary, 'SELECT 1 AS one')).rejects.toMatchObject({ code: '28P01' });
  c.superuserPassword = rotated['superuser-password'];
  const holder = await c.healthy();
  c.restApiAuth = { username: 'pgha', password: rotated['restapi-password'] };
  await eventually(
    'the REST API takes the new password',
    async () => ((await c.api(holder, 'POST', '/reload')).status === 202 ? true : undefined),
    240_000,
    1000,
  );
  c.restApiAuth = { username: 'pgha', password: before['restapi-password']! };
  expect((await c.api(holder, 'POST', '/reload')).status).toBe(401);
  c.restApiAuth = { username: 'pgha', password: rotated['restapi-password'] };
  // New replication connections (the WAL senders ended) log in with the new replication password, once each
  // replica's files have it: the cluster is whole again.
  await c.sql(await c.target(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'walsender'");
  await c.healthy(240_000);
  expect((await c.pods()).map((p) => [p.name, p.restarts])).toEqual(restarts);
}

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

it('the OpenShift Template for a Secret of your own: no Secret created, the members mount the one made beforehand', async () => {
  const ns = await session.namespace('e2e-openshift-own');
  const passwords = { 'superuser-password': 'tpl-su-e2e', 'replication-password': 'tpl-repl-e2e', 'restapi-password': 'tpl-api-e2e' };
  await createSecret(session.cluster, ns, 'ledger-passwords', passwords);
  const d = await deployOpenShift(session.cluster, ns, repoPath('templates', 'pgha-ephemeral-existing-secret.yaml'), {
    CLUSTER_NAME: 'ledger',
    CREDENTIALS_SECRET: 'ledger-passwords',
    REPLICAS: '2',
    CPU_REQUEST: SMALL.cpuRequest,
    MEMORY_REQUEST: SMALL.memoryRequest,
  });
  expect(d.superuserPassword).toBe(passwords['superuser-password']);
  const secrets = (await session.cluster.kubectl(['get', 'secrets', '-n', ns, '-o', 'name'])).trim().split('\n');
  expect(secrets).toEqual(['secret/ledger-passwords']);
  await writesAndStreams(session.track(d));
}, 300_000);
