// Debian's patronictl (Patroni 3.0.2) against a pgha cluster deployed from the plain manifests on the real node, run
// from the cluster network as a Patroni user runs it: the answers must be the ones it gives for a Patroni cluster
// (table shape, Leader/Replica roles, timelines, lag, Patroni's messages), and its actions (switchover, failover,
// pause, resume) must take effect, with the REST API's credentials from the generated Secret in patronictl's
// `restapi.authentication`. Patroni 3.0.2 knows only the leader role value `master`, so this cluster uses it.
import { eventually } from '../fixtures/cluster';
import type { ClusterUnderTest } from './support/cluster-under-test';
import { deployPlain } from './support/deploy';
import { E2eSession } from './support/e2e-cluster';
import { FAST } from './support/faults';
import { FAST_PROPS } from './support/faults';
import { patronictlInCluster } from './support/in-cluster-tools';

jest.setTimeout(300_000);
const session = new E2eSession();
let c: ClusterUnderTest;

beforeAll(async () => {
  const ns = await session.namespace('e2e-ptl');
  const d = await deployPlain(session.cluster, ns, { ...FAST_PROPS, name: 'ptl', leaderLabelValue: 'master' });
  c = session.track(d);
  await c.healthy();
}, 300_000);
afterAll(() => session.close());

interface Row {
  Cluster: string;
  Member: string;
  Host: string;
  Role: string;
  State: string;
  TL: number | string;
  'Lag in MB': number | string;
}

/** patronictl with the cluster's REST API credentials, or (`withAuth` false) without any. */
const patronictl = (args: readonly string[], withAuth = true) =>
  patronictlInCluster(
    session.cluster,
    { scope: 'ptl', namespace: c.namespace, labels: { 'app.kubernetes.io/name': 'pgha' }, restapiAuth: withAuth ? c.d.restApiAuth : undefined },
    args,
  );

function list(): Row[] {
  const r = patronictl(['list', '-f', 'json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return (JSON.parse(r.stdout) as Row[]).sort((a, b) => a.Member.localeCompare(b.Member));
}

/** Waits until every member runs, one as Leader and the rest as streaming replicas with a known lag. */
async function healthy(): Promise<Row[]> {
  return eventually(
    'a leader and two running replicas in patronictl list',
    async () => {
      const rows = list();
      const ok =
        rows.length === 3 &&
        rows.filter((r) => r.Role === 'Leader').length === 1 &&
        rows.every((r) => r.State === 'running' || r.State === 'streaming') &&
        rows.every((r) => r.Role === 'Leader' || r['Lag in MB'] === 0);
      return ok ? rows : undefined;
    },
    180_000,
    1000,
  );
}

const leaderOf = (rows: Row[]) => rows.find((r) => r.Role === 'Leader')!.Member;

it('list: the table Patroni prints, with the lock holder as Leader, the others as Replica, timeline and lag', async () => {
  const rows = await healthy();
  const holder = await c.holder();
  expect(leaderOf(rows)).toBe(holder);
  const pods = await c.pods();
  expect(rows.map((r) => [r.Cluster, r.Member, r.Host.replace(/:5432$/, ''), r.Role])).toEqual(
    pods.map((p) => ['ptl', p.name, p.ip, p.name === holder ? 'Leader' : 'Replica']),
  );
  expect(new Set(rows.map((r) => r.TL))).toEqual(new Set([1]));
  const table = patronictl(['list']);
  expect(table.status).toBe(0);
  const lines = table.stdout.trimEnd().split('\n');
  // Patroni 3.0.2 names only the cluster in the title (the system identifier appears there only for Citus groups).
  expect(lines[0]).toMatch(/^\+ Cluster: ptl -+\+/);
  expect(lines[1]).toMatch(/^\| Member +\| Host +\| Role +\| State +\| TL \| Lag in MB \|$/);
  expect(lines.filter((l) => /\| Leader +\|/.test(l))).toHaveLength(1);
  // The leader's Pod carries Patroni 3.0.2's role label value, which the primary Service selects.
  expect(pods.find((p) => p.name === holder)!.role).toBe('master');
});

it('show-config prints the dynamic configuration', () => {
  const r = patronictl(['show-config']);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain(`ttl: ${FAST.ttl}`);
  expect(r.stdout).toContain(`loop_wait: ${FAST.loopWait}`);
});

it('switchover to a named candidate: "Successfully switched over", the candidate becomes Leader on a new timeline', async () => {
  const before = await healthy();
  const leader = leaderOf(before);
  const candidate = before.find((r) => r.Role !== 'Leader')!.Member;
  const r = patronictl(['switchover', '--master', leader, '--candidate', candidate, '--force']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`Successfully switched over to "${candidate}"`));
  expect(leaderOf(await healthy())).toBe(candidate);
  // Replicas publish their timeline with their other status fields; all follow the new leader onto timeline 2.
  await eventually('every member on timeline 2', async () => (list().every((x) => x.TL === 2) ? true : undefined), 60_000, 1000);
});

it('history lists the timeline switch with the new leader', () => {
  const r = patronictl(['history', '-f', 'json']);
  expect(r.status).toBe(0);
  const rows = JSON.parse(r.stdout) as { TL: number; LSN: number; Reason: string; Timestamp: string; 'New Leader': string }[];
  expect(rows.length).toBeGreaterThanOrEqual(1);
  expect(rows.at(-1)!.TL).toBe(1);
  expect(rows.at(-1)!['New Leader']).toBe(leaderOf(list()));
});

it('failover to a named candidate: the candidate becomes Leader', async () => {
  const before = await healthy();
  const candidate = before.find((r) => r.Role !== 'Leader')!.Member;
  const r = patronictl(['failover', '--candidate', candidate, '--force']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  // patronictl 3.0.2 sends the current leader along; the hand-over is a graceful switchover, answered as Patroni
  // 3.0.2 answers its failover endpoint.
  expect(r.stdout).toMatch(new RegExp(`Successfully failed over to "${candidate}"`));
  expect(leaderOf(await healthy())).toBe(candidate);
});

it("pause and resume: Patroni's messages, and the cluster reports maintenance mode in between", async () => {
  await healthy();
  // Without restapi.authentication the REST API refuses; patronictl 3.0.2 reports it (and still exits 0).
  const denied = patronictl(['pause'], false);
  expect(denied.stdout).toContain('Failed: pause cluster management status code=401');
  expect(patronictl(['list']).stdout).not.toContain('Maintenance mode');
  const p = patronictl(['pause']);
  expect([p.status, p.stderr, p.stdout.trim()]).toEqual([0, '', 'Success: cluster management is paused']);
  expect(patronictl(['list']).stdout).toContain('Maintenance mode: on');
  const again = patronictl(['pause']);
  expect(again.status).not.toBe(0);
  expect(again.stdout + again.stderr).toContain('Cluster is already paused');
  const r = patronictl(['resume']);
  expect([r.status, r.stderr, r.stdout.trim()]).toEqual([0, '', 'Success: cluster management is resumed']);
  expect(patronictl(['list']).stdout).not.toContain('Maintenance mode');
});
