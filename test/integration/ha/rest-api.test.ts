// The REST API of real agents: topology and history in Patroni's shapes, dynamic Postgres parameters (reload and
// pending restart), restart, reinitialize, and authentication of unsafe methods.
import { eventually } from '../../fixtures/cluster';
import type { HaCluster } from './ha-harness';
import { haSuite } from '../suite';

jest.setTimeout(300_000);
let primary: string;
let replica: string;
const auth = { username: 'admin', password: 'secret pw' };
let cluster: HaCluster;
const suite = haSuite(
  'ha-rest',
  {
    scope: 'rest',
    size: 2,
    ttl: 10,
    restapiAuth: auth,
    // rest-1 reads its password from restapi.authentication.password_file, as a member deployed by the toolkit does.
    restapiPasswordFile: (name) => name === 'rest-1',
    dcs: { postgresql: { parameters: { work_mem: '4MB' } } },
  },
  async (c) => {
    cluster = c;
    ({ primary, replica } = await c.startPair());
  },
);

const setting = async (name: string, guc: string) => (await cluster.query<{ v: string }>(name, `SELECT current_setting('${guc}') AS v`))[0]!.v;

it("GET /metrics: Patroni's gauges and the agent's own, from a real leader and a streaming replica", async () => {
  const sample = (text: string, name: string, labels = '') => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const leader = (await cluster.api(primary, 'GET', '/metrics')).text;
  expect(sample(leader, 'patroni_primary')).toBe(1);
  // The leader renews its lock with conditional PATCHes; every one is counted, and it has lease left.
  expect(sample(leader, 'pgha_kubernetes_requests_total', 'verb="PATCH",code="200"')).toBeGreaterThan(0);
  expect(sample(leader, 'pgha_lease_headroom_seconds')).toBeGreaterThan(0);
  expect(sample(leader, 'pgha_lease_headroom_seconds')).toBeLessThanOrEqual(10);
  expect(sample(leader, 'pgha_ha_loop_duration_seconds_count')).toBeGreaterThan(0);
  expect(sample(leader, 'pgha_event_loop_delay_seconds', 'quantile="0.99"')).toBeGreaterThanOrEqual(0);
  const follower = await eventually('the replica reports streaming', async () => {
    const text = (await cluster.api(replica, 'GET', '/metrics')).text;
    return sample(text, 'patroni_postgres_streaming') === 1 ? text : undefined;
  });
  expect(sample(follower, 'patroni_replica')).toBe(1);
  expect(sample(follower, 'pgha_lease_headroom_seconds')).toBeUndefined();
});

it("GET /cluster and /config answer in Patroni's shapes", async () => {
  // The replica publishes its state on its Pod; streaming in pg_stat_replication may come a loop before that.
  const body = await eventually('the replica published as streaming, its lag known', async () => {
    const b = JSON.parse((await cluster.api(replica, 'GET', '/cluster')).text) as { members: Record<string, unknown>[] };
    const m = b.members.find((x) => x.name === replica);
    return typeof m?.lag === 'number' && m.state === 'streaming' ? b : undefined;
  });
  expect(body).toMatchObject({
    scope: 'rest',
    members: [
      {
        name: 'rest-0',
        api_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/patroni$/),
        host: '127.0.0.1',
        port: cluster.member('rest-0').pgPort,
        timeline: 1,
      },
      {
        name: 'rest-1',
        api_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/patroni$/),
        host: '127.0.0.1',
        port: cluster.member('rest-1').pgPort,
        timeline: 1,
      },
    ],
  });
  expect(body.members.find((m) => m.name === primary)).toMatchObject({ role: 'leader', state: 'running' });
  expect(body.members.find((m) => m.name === replica)).toMatchObject({ role: 'replica', state: 'streaming', lag: expect.any(Number) });
  expect(JSON.parse((await cluster.api(primary, 'GET', '/config')).text)).toEqual({ postgresql: { parameters: { work_mem: '4MB' } } });
  expect(JSON.parse((await cluster.api(primary, 'GET', '/history')).text)).toEqual([]);
  expect(await setting(primary, 'work_mem')).toBe('4MB');
});

it('unsafe methods need the credentials: 401 without or with wrong ones', async () => {
  expect((await cluster.api(primary, 'PATCH', '/config', { pause: true }, null)).status).toBe(401);
  expect((await cluster.api(primary, 'PATCH', '/config', { pause: true }, { username: 'admin', password: 'wrong' })).status).toBe(401);
  expect((await cluster.api(primary, 'POST', '/switchover', { leader: primary }, null)).status).toBe(401);
  expect(await cluster.holder()).toBe(primary);
  expect(JSON.parse((await cluster.api(primary, 'GET', '/patroni')).text).pause).toBeUndefined();
});

it('an agent with restapi.authentication.password_file answers 401 without the credentials and takes them from the file', async () => {
  const reload = (creds: { username: string; password: string } | null) => cluster.api('rest-1', 'POST', '/reload', undefined, creds);
  expect((await reload(null)).status).toBe(401);
  // The file's trailing newline is not part of the password.
  expect((await reload({ ...auth, password: `${auth.password}\n` })).status).toBe(401);
  expect(await reload(auth)).toEqual({ status: 202, text: 'reload scheduled' });
  // Unauthenticated reads stay open: the probes and the members' GET /patroni.
  expect((await cluster.api('rest-1', 'GET', '/patroni', undefined, null)).status).toBe(200);
  const patched = await cluster.api('rest-1', 'PATCH', '/config', { postgresql: { parameters: { work_mem: '4MB' } } });
  expect(patched.status).toBe(200);
});

it('PATCH /config: a reloadable parameter applies on every member; one that needs a restart shows as pending, and POST /restart applies it', async () => {
  const patched = await cluster.api(primary, 'PATCH', '/config', { postgresql: { parameters: { work_mem: '8MB', max_connections: 40 } } });
  expect(patched.status).toBe(200);
  for (const m of [primary, replica]) await eventually(`work_mem on ${m}`, async () => ((await setting(m, 'work_mem')) === '8MB' ? true : undefined), 30_000);
  await eventually(
    'pending restart shown',
    async () => (JSON.parse((await cluster.api(primary, 'GET', '/patroni')).text).pending_restart === true ? true : undefined),
    30_000,
  );
  await eventually('pending restart on the pod', async () => ((await cluster.statusOf(primary)).pending_restart === true ? true : undefined), 30_000);
  const before = await cluster.postmasterPid(primary);
  const res = await cluster.api(primary, 'POST', '/restart', {});
  expect(res).toEqual({ status: 200, text: 'restarted successfully' });
  expect(await cluster.postmasterPid(primary)).not.toBe(before);
  expect(await setting(primary, 'max_connections')).toBe('40');
  await eventually('still the writable leader', async () => ((await cluster.writablePrimary()) === primary ? true : undefined));
});

it('POST /reinitialize: refused on the leader, re-clones a replica', async () => {
  expect(await cluster.api(primary, 'POST', '/reinitialize', {})).toEqual({ status: 503, text: 'I am the leader, can not reinitialize' });
  await cluster.query(primary, 'CREATE TABLE IF NOT EXISTS r (v int)');
  const res = await cluster.api(replica, 'POST', '/reinitialize', {});
  expect(res).toEqual({ status: 200, text: 'reinitialize started' });
  await cluster.agent(replica).waitFor('re-clone', (l) => l.msg === 'postgres step' && l.step === 'clone', 60_000);
  await cluster.streaming(replica, 120_000);
  expect(await cluster.query(replica, "SELECT to_regclass('r')::text AS t")).toEqual([{ t: 'r' }]);
});

it('dynamic ttl and loop_wait apply to the lock; an inconsistent value is refused with an error', async () => {
  const leader = await cluster.writablePrimary();
  const lockTtl = async () =>
    (
      await suite.admin.request<{ metadata: { annotations: Record<string, string> } }>({
        method: 'GET',
        path: `/api/v1/namespaces/${suite.namespace}/configmaps/rest-leader`,
      })
    ).body.metadata.annotations.ttl;
  expect(await lockTtl()).toBe('10');
  expect((await cluster.api(leader, 'PATCH', '/config', { ttl: 12, loop_wait: 2 })).status).toBe(200);
  await eventually('ttl 12 on the lock', async () => ((await lockTtl()) === '12' ? true : undefined), 20_000);
  // Out of range: refused by the API, naming the rule; nothing is stored.
  const refused = await cluster.api(leader, 'PATCH', '/config', { ttl: 4 });
  expect(refused).toEqual({ status: 400, text: 'invalid configuration: ttl: 4 must be a whole number from 5 to 3600' });
  // Inconsistent with the members' own retry_timeout, written past the API: the agent keeps the timings in force.
  const cm = await suite.admin.request<{ metadata: { annotations: Record<string, string> } }>({
    method: 'GET',
    path: `/api/v1/namespaces/${suite.namespace}/configmaps/rest-config`,
  });
  const inconsistent = { ...JSON.parse(cm.body.metadata.annotations.config!), ttl: 5, loop_wait: 2 };
  await suite.admin.request({
    method: 'PATCH',
    path: `/api/v1/namespaces/${suite.namespace}/configmaps/rest-config`,
    contentType: 'application/merge-patch+json',
    body: { metadata: { annotations: { config: JSON.stringify(inconsistent) } } },
  });
  await cluster.agent(leader).waitFor('refusal', (l) => l.msg === 'dynamic timings not applied', 20_000);
  expect(await lockTtl()).toBe('12');
  expect(await cluster.holder()).toBe(leader);
  expect((await cluster.api(leader, 'PATCH', '/config', { ttl: null, loop_wait: null })).status).toBe(200);
  await eventually('ttl back to 10', async () => ((await lockTtl()) === '10' ? true : undefined), 20_000);
});
