// The `pgha` CLI's actions against a cluster deployed on the real node, run from the cluster network with the REST
// API's credentials from the generated Secret (`restapi-password`): pause and resume through the leader's REST API
// (refused without credentials: exit 3), restart and reinit of a replica, failover to a named candidate, and the
// history entry it leaves. Inside a member's Pod, `pgha` finds the credentials by itself.
import { eventually } from '../fixtures/cluster';
import type { ClusterUnderTest } from './support/cluster-under-test';
import { deployPlain } from './support/deploy';
import { E2eSession } from './support/e2e-cluster';
import { FAST_PROPS } from './support/faults';
import { pghaInCluster } from './support/in-cluster-tools';

jest.setTimeout(300_000);
const session = new E2eSession();
let c: ClusterUnderTest;
/** The REST API's credentials as a client outside the Pods gives them: the generated Secret's, in the environment. */
let AUTH: NodeJS.ProcessEnv;

beforeAll(async () => {
  const ns = await session.namespace('e2e-act');
  const d = await deployPlain(session.cluster, ns, { ...FAST_PROPS, name: 'act', replicas: 2 });
  c = session.track(d);
  AUTH = { PATRONI_RESTAPI_USERNAME: d.restApiAuth!.username, PATRONI_RESTAPI_PASSWORD: d.restApiAuth!.password };
  await c.healthy();
}, 300_000);
afterAll(() => session.close());

const target = () => ['--scope', 'act', '-n', c.namespace];
const pgha = (args: readonly string[], env: NodeJS.ProcessEnv = {}) => pghaInCluster(session.cluster, args, env);

interface Listed {
  leader: string | null;
  pause: boolean;
  members: { name: string; role: string; state: string; timeline: number | null }[];
}

function listed(): Listed {
  const r = pgha(['list', ...target(), '--json']);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Listed;
}

/** Waits for a leader and a running replica; returns both names. */
async function healthy(): Promise<{ leader: string; replica: string }> {
  await c.healthy();
  return eventually(
    'a leader and a running replica in pgha list',
    async () => {
      const l = listed();
      const replica = l.members.find((m) => m.role === 'replica' && m.state === 'running');
      return l.leader && replica ? { leader: l.leader, replica: replica.name } : undefined;
    },
    180_000,
    500,
  );
}

it('pause and resume go through the leader REST API with credentials; without them the API refuses (exit 3)', async () => {
  await healthy();
  const denied = pgha(['pause', ...target()]);
  expect(denied.code).toBe(3);
  expect(denied.stderr).toMatch(/answered 401/);
  const p = pgha(['pause', ...target(), '--json'], AUTH);
  expect(p.stderr).toBe('');
  expect([p.code, JSON.parse(p.stdout)]).toEqual([0, { ok: true, pause: true, via: 'rest' }]);
  expect(listed().pause).toBe(true);
  const r = pgha(['resume', ...target()], AUTH);
  expect([r.code, r.stdout.trim()]).toEqual([0, 'Success: cluster management is resumed']);
  expect(listed().pause).toBe(false);
});

it("inside a member's Pod, pgha takes the credentials from the member file and the mounted Secret (kubectl exec)", async () => {
  const { replica } = await healthy();
  expect(JSON.parse(await c.exec(replica, ['pgha', 'pause', '--json']))).toEqual({ ok: true, pause: true, via: 'rest' });
  expect(listed().pause).toBe(true);
  expect((await c.exec(replica, ['pgha', 'resume'])).trim()).toBe('Success: cluster management is resumed');
  expect(listed().pause).toBe(false);
});

it('restart and reinit of a replica are accepted by its REST API', async () => {
  const { replica } = await healthy();
  const restart = pgha(['restart', replica, ...target()], AUTH);
  expect(restart.stderr).toBe('');
  expect(restart.code).toBe(0);
  expect(restart.stdout).toMatch(new RegExp(`^Success: restart on member ${replica} \\(200\\)`));
  await healthy();
  const reinit = pgha(['reinit', replica, '--force', ...target()], AUTH);
  expect(reinit.stderr).toBe('');
  expect(reinit.code).toBe(0);
  expect(reinit.stdout).toMatch(new RegExp(`^Success: reinitialize on member ${replica} \\(200\\)`));
  await healthy();
});

it('failover to a named candidate moves the lock; history records the timeline change', async () => {
  const { leader, replica } = await healthy();
  const r = pgha(['failover', '--candidate', replica, ...target(), '--json'], AUTH);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, from: leader, to: replica, via: 'rest' });
  expect((await healthy()).leader).toBe(replica);
  const h = pgha(['history', ...target(), '--json']);
  expect(h.code).toBe(0);
  const entries = JSON.parse(h.stdout) as [number, number, string, string, string][];
  expect(entries.at(-1)![4]).toBe(replica);
});
