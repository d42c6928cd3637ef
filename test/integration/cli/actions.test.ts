// The `pgha` actions against real agents with real PostgreSQL (a 2-member sandbox cluster): pause and resume through
// the leader's REST API, restart and reinit of a replica, failover to a named candidate, and history afterwards.
import { eventually, type TestNamespace } from '../../fixtures/cluster';
import { startTestSandbox, stopTestSandbox, type TestSandbox } from '../sandbox/test-sandbox';
import { runPgha } from './run-pgha';

jest.setTimeout(240_000);
const SCOPE = 'act';
let sandbox: TestSandbox;
let ns: TestNamespace;
let kubeconfig: string;

beforeAll(async () => {
  sandbox = await startTestSandbox({ prefix: 'act', scope: SCOPE, members: 2, firstHost: 90, extra: { restApiAuth: { username: 'ops', password: 'pw-for-tests' } } });
  ({ ns } = sandbox);
  kubeconfig = sandbox.kubeconfig;
}, 240_000);

afterAll(() => stopTestSandbox(sandbox));

const target = () => ['--scope', SCOPE, '-n', ns.name];
const withAuth = () => ({ KUBECONFIG: kubeconfig, PATRONI_RESTAPI_USERNAME: 'ops', PATRONI_RESTAPI_PASSWORD: 'pw-for-tests' });

interface Listed {
  leader: string | null;
  pause: boolean;
  members: { name: string; role: string; state: string; timeline: number | null }[];
}

async function listed(): Promise<Listed> {
  const r = await runPgha(['list', ...target(), '--json'], { KUBECONFIG: kubeconfig });
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Listed;
}

/** Waits for a leader and a running replica; returns both names. */
async function healthy(): Promise<{ leader: string; replica: string }> {
  return eventually('a leader and a running replica', async () => {
    const l = await listed();
    const replica = l.members.find((m) => m.role === 'replica' && m.state === 'running');
    return l.leader && replica ? { leader: l.leader, replica: replica.name } : undefined;
  }, 180_000, 500);
}

it('pause and resume go through the leader REST API with credentials; without them the API refuses (exit 3)', async () => {
  await healthy();
  const denied = await runPgha(['pause', ...target()], { KUBECONFIG: kubeconfig });
  expect(denied.code).toBe(3);
  expect(denied.stderr).toMatch(/answered 401/);
  const p = await runPgha(['pause', ...target(), '--json'], withAuth());
  expect(p.stderr).toBe('');
  expect([p.code, JSON.parse(p.stdout)]).toEqual([0, { ok: true, pause: true, via: 'rest' }]);
  expect((await listed()).pause).toBe(true);
  const r = await runPgha(['resume', ...target()], withAuth());
  expect([r.code, r.stdout.trim()]).toEqual([0, 'Success: cluster management is resumed']);
  expect((await listed()).pause).toBe(false);
});

it('restart and reinit of a replica are accepted by its REST API', async () => {
  const { replica } = await healthy();
  const restart = await runPgha(['restart', replica, ...target()], withAuth());
  expect(restart.stderr).toBe('');
  expect(restart.code).toBe(0);
  expect(restart.stdout).toMatch(new RegExp(`^Success: restart on member ${replica} \\(200\\)`));
  await healthy();
  const reinit = await runPgha(['reinit', replica, '--force', ...target()], withAuth());
  expect(reinit.stderr).toBe('');
  expect(reinit.code).toBe(0);
  expect(reinit.stdout).toMatch(new RegExp(`^Success: reinitialize on member ${replica} \\(200\\)`));
  await healthy();
});

it('failover to a named candidate moves the lock; history records the timeline change', async () => {
  const { leader, replica } = await healthy();
  const r = await runPgha(['failover', '--candidate', replica, ...target(), '--json'], withAuth());
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, from: leader, to: replica, via: 'rest' });
  expect((await healthy()).leader).toBe(replica);
  const h = await runPgha(['history', ...target(), '--json'], { KUBECONFIG: kubeconfig });
  expect(h.code).toBe(0);
  const entries = JSON.parse(h.stdout) as [number, number, string, string, string][];
  expect(entries.at(-1)![4]).toBe(replica);
});
