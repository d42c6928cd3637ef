// The `pgha` cluster commands against the real control plane: reads of a cluster that lock-only agents run, edits
// of the configuration object, and the paths a script must be able to tell apart by exit code (refused, not
// reachable, usage). Member REST APIs are unreachable here (TEST-NET addresses), which exercises the fallbacks.
import { KubeApiError } from '../../../agent/src/kube/kube-error';
import { eventually } from '../../fixtures/cluster';
import { stopAll, writeKubeconfig } from '../agent/harness';
import { agentSuite } from '../suite';
import { runPgha } from './run-pgha';

jest.setTimeout(120_000);
const suite = agentSuite('cli');

const cm = (name: string) => `/api/v1/namespaces/${suite.namespace}/configmaps/${name}`;

async function annotations(name: string): Promise<Record<string, string> | undefined> {
  try {
    return (
      (await suite.admin.request<{ metadata: { annotations?: Record<string, string> } }>({ method: 'GET', path: cm(name) })).body.metadata.annotations ?? {}
    );
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

async function createConfigMap(name: string, scope: string, annotations: Record<string, string>): Promise<void> {
  await suite.admin.request({
    method: 'POST',
    path: `/api/v1/namespaces/${suite.namespace}/configmaps`,
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { 'cluster-name': scope }, annotations } },
  });
}

/** A cluster as it looks in Kubernetes with its agents gone: Pods with status, a lock naming the leader, a config. */
async function staticCluster(scope: string, config: Record<string, unknown>): Promise<string[]> {
  const names = [0, 1, 2].map((i) => `${scope}-${i}`);
  await suite.createMemberPods(scope, names);
  for (const [i, name] of names.entries()) {
    const status = {
      conn_url: `postgres://192.0.2.${20 + i}:5432/postgres`,
      api_url: `http://192.0.2.${20 + i}:8008/patroni`,
      state: 'running',
      role: i === 0 ? 'primary' : 'replica',
      timeline: 2,
      xlog_location: 50331648 - i * 1048576,
    };
    await suite.admin.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${suite.namespace}/pods/${name}`,
      contentType: 'application/strategic-merge-patch+json',
      body: { metadata: { annotations: { status: JSON.stringify(status) } } },
    });
  }
  await createConfigMap(`${scope}-leader`, scope, { leader: names[0]!, optime: '50331648', ttl: '30' });
  await createConfigMap(`${scope}-config`, scope, {
    initialize: '7300000000000000042',
    config: JSON.stringify(config),
    history: JSON.stringify([[1, 25165824, 'no recovery target specified', '2026-01-01T00:00:00.000000+00:00', names[0]]]),
  });
  return names;
}

const env = () => ({ KUBECONFIG: suite.kubeconfig });

describe.each([
  ['ConfigMap', false],
  ['Endpoints', true],
])('list against running agents (%s mode)', (mode, useEndpoints) => {
  it('shows every member and the lock holder as Leader, as a table and as JSON', async () => {
    const scope = `cli${mode === 'Endpoints' ? 'ep' : 'cm'}`;
    const names = [0, 1].map((i) => `${scope}-${i}`);
    await suite.createMemberPods(scope, names);
    const agents = names.map((name, i) => suite.start({ name, scope, useEndpoints, podIp: `192.0.2.${70 + i}` }));
    // Generous waits: the machine is shared, and agents of the other mode may still be stopping.
    const holder = await eventually('a holder', () => suite.holderOf(scope, useEndpoints), 90_000);
    await eventually(
      'every member published',
      async () => {
        for (const n of names) if (!(await suite.getPod(n)).metadata.annotations?.status) return undefined;
        return true;
      },
      90_000,
    );
    const args = ['--scope', scope, '-n', suite.namespace, ...(useEndpoints ? ['--use-endpoints'] : [])];
    const json = await runPgha(['list', ...args, '--json'], env());
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as { leader: string; members: { name: string; role: string; host: string; state: string }[] };
    expect(listed.leader).toBe(holder);
    expect(listed.members.map((m) => [m.name, m.role, m.host])).toEqual(names.map((n, i) => [n, n === holder ? 'leader' : 'replica', `192.0.2.${70 + i}`]));
    const text = await runPgha(['list', ...args], env());
    expect(text.code).toBe(0);
    const holderRow = text.stdout.split('\n').find((l) => l.startsWith(`${holder} `));
    expect(holderRow).toMatch(/\bLeader\b/);
    expect(text.stdout).toMatch(new RegExp(`^Cluster: ${scope} \\(`));
    await stopAll(agents);
  });
});

describe('a cluster whose member APIs cannot be reached', () => {
  const scope = 'static';
  let names: string[];
  const args = () => ['--scope', scope, '-n', suite.namespace];

  beforeAll(async () => {
    names = await staticCluster(scope, { ttl: 30, loop_wait: 10, postgresql: { parameters: { max_connections: 100 } } });
  });

  it('list shows roles, timeline and lag from the objects alone', async () => {
    const r = await runPgha(['list', ...args()], env());
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'Cluster: static (system id 7300000000000000042)',
      'Member    Host        Role     State    TL  Lag in MB',
      'static-0  192.0.2.20  Leader   running  2',
      'static-1  192.0.2.21  Replica  running  2   1',
      'static-2  192.0.2.22  Replica  running  2   2',
      '',
    ]);
  });

  it('history and show-config print what -config holds', async () => {
    const h = await runPgha(['history', ...args()], env());
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('1   25165824  no recovery target specified  2026-01-01T00:00:00.000000+00:00  static-0');
    const c = await runPgha(['show-config', ...args(), '--json'], env());
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout)).toEqual({ ttl: 30, loop_wait: 10, postgresql: { parameters: { max_connections: 100 } } });
  });

  it('edit-config applies --set, -p and --apply as one compare-and-swap write', async () => {
    const r = await runPgha(
      ['edit-config', ...args(), '--set', 'ttl=20', '-p', 'max_connections=200', '--apply', '-'],
      env(),
      'synchronous_mode: true\nloop_wait: null\n',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ttl: 30 -> 20');
    expect(JSON.parse((await annotations(`${scope}-config`))!.config!)).toEqual({
      ttl: 20,
      synchronous_mode: true,
      postgresql: { parameters: { max_connections: 200 } },
    });
    const again = await runPgha(['edit-config', ...args(), '--set', 'ttl=20'], env());
    expect([again.code, again.stdout.trim()]).toEqual([0, 'Not changed']);
  });

  it('pause falls back to writing the configuration when no member API answers; pausing twice is refused', async () => {
    const r = await runPgha(['pause', ...args()], env());
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('writing the configuration object directly');
    expect(JSON.parse((await annotations(`${scope}-config`))!.config!).pause).toBe(true);
    expect((await runPgha(['list', ...args()], env())).stdout).toContain('maintenance mode: paused');
    const twice = await runPgha(['pause', ...args()], env());
    expect([twice.code, twice.stderr.trim()]).toEqual([3, 'pgha pause: Cluster is already paused']);
    expect((await runPgha(['resume', ...args()], env())).code).toBe(0);
    expect(JSON.parse((await annotations(`${scope}-config`))!.config!).pause).toBeUndefined();
  });

  it('switchover writes the failover key like patronictl when the leader API is unreachable, then times out with code 4', async () => {
    const r = await runPgha(['switchover', ...args(), '--candidate', names[2]!, '--timeout', '2', '--json'], env());
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`writing ${scope}-failover instead`);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exit_code: 4 });
    expect(await annotations(`${scope}-failover`)).toEqual({ leader: names[0], member: names[2] });
  });

  it('a scheduled switchover through the failover key shows up in list', async () => {
    const at = '2030-01-01T00:00:00+00:00';
    const r = await runPgha(['switchover', ...args(), '--scheduled', at], env());
    expect(r.code).toBe(0);
    expect(await annotations(`${scope}-failover`)).toEqual({ leader: names[0], scheduled_at: at });
    expect((await runPgha(['list', ...args()], env())).stdout).toContain(`Switchover scheduled at ${at}: from ${names[0]} to any healthy member`);
  });

  it.each([
    [['switchover', '--candidate', 'nobody'], 3, /nobody is not a member/],
    [['switchover', '--leader', 'static-1'], 3, /static-1 is not the leader \(the leader is static-0\)/],
    [['failover', '--candidate', 'static-0'], 3, /static-0 is already the leader/],
    [['reinit', 'static-0'], 3, /only a replica can be reinitialized/],
    [['restart', 'static-1'], 4, /Failed: restart on member static-1/],
    [['list', '--bogus'], 2, /unknown option/],
  ])('pgha %p exits %p', async (cmdArgs, code, message) => {
    const r = await runPgha([...cmdArgs, ...args()], env());
    expect(r.code).toBe(code);
    expect(r.stderr + r.stdout).toMatch(message);
  });

  it('exits 3 when the cluster has no leader to switch over from', async () => {
    await suite.admin.request({
      method: 'PATCH',
      path: cm(`${scope}-leader`),
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { leader: null } } },
    });
    const r = await runPgha(['switchover', ...args()], env());
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/has no leader; use pgha failover --candidate NAME/);
  });
});

it('exits 4 when the Kubernetes API cannot be reached', async () => {
  const bad = writeKubeconfig(suite.dir, 'closed', 'https://127.0.0.1:1', suite.cp.state.caFile, 'x');
  const r = await runPgha(['list', '--scope', 'x', '-n', 'default'], { KUBECONFIG: bad });
  expect(r.code).toBe(4);
  expect(r.stderr).toMatch(/cannot reach the Kubernetes API at https:\/\/127.0.0.1:1/);
});

it('exits 2 and names the ways to give a scope when none is given', async () => {
  const r = await runPgha(['list'], { KUBECONFIG: suite.kubeconfig });
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/no cluster named/);
});
