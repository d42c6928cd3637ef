// Debian's patronictl (Patroni 3.0.2) against a pgha cluster of real agents and PostgreSQL: the answers must be the
// ones it gives for a Patroni cluster (table shape, Leader/Replica roles, timelines, lag, Patroni's messages), and
// its actions (switchover, failover, pause, resume) must take effect. Patroni 3.0.2 knows only the leader role
// value `master`, so this cluster uses it.
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { eventually, type TestNamespace } from '../../fixtures/cluster';
import { patronictl, type PatronictlTarget } from '../../fixtures/patronictl';
import type { SandboxCluster } from '../../sandbox/cluster';
import { startTestSandbox, stopTestSandbox, type TestSandbox } from '../sandbox/test-sandbox';
import { getPod, holderOf } from '../agent/harness';

jest.setTimeout(240_000);
const SCOPE = 'ptl';
let sandbox: TestSandbox;
let admin: KubeClient;
let ns: TestNamespace;
let cluster: SandboxCluster;
let target: PatronictlTarget;

beforeAll(async () => {
  sandbox = await startTestSandbox({ prefix: 'ptl', scope: SCOPE, members: 3, firstHost: 70, extra: { leaderLabelValue: 'master' } });
  ({ admin, ns, cluster } = sandbox);
  target = { scope: SCOPE, namespace: ns.name, kubeconfig: sandbox.kubeconfig, context: 'c' };
}, 240_000);

afterAll(() => stopTestSandbox(sandbox));

interface Row {
  Cluster: string;
  Member: string;
  Host: string;
  Role: string;
  State: string;
  TL: number | string;
  'Lag in MB': number | string;
}

function list(): Row[] {
  const r = patronictl(target, ['list', '-f', 'json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return (JSON.parse(r.stdout) as Row[]).sort((a, b) => a.Member.localeCompare(b.Member));
}

/** Waits until every member runs, one as Leader and the rest as streaming replicas with a known lag. */
async function healthy(): Promise<Row[]> {
  return eventually('a leader and two running replicas in patronictl list', async () => {
    const rows = list();
    const ok = rows.length === 3 && rows.filter((r) => r.Role === 'Leader').length === 1 && rows.every((r) => r.State === 'running' || r.State === 'streaming') && rows.every((r) => r.Role === 'Leader' || r['Lag in MB'] === 0);
    return ok ? rows : undefined;
  }, 180_000, 1000);
}

const leaderOf = (rows: Row[]) => rows.find((r) => r.Role === 'Leader')!.Member;

it('list: the table Patroni prints, with the lock holder as Leader, the others as Replica, timeline and lag', async () => {
  const rows = await healthy();
  const holder = await holderOf(admin, ns.name, SCOPE, false);
  expect(leaderOf(rows)).toBe(holder);
  expect(rows.map((r) => [r.Cluster, r.Member, r.Host, r.Role])).toEqual(
    cluster.members.map((m) => [SCOPE, m.name, `${m.host}:${m.pgPort}`, m.name === holder ? 'Leader' : 'Replica']),
  );
  expect(new Set(rows.map((r) => r.TL))).toEqual(new Set([1]));
  const table = patronictl(target, ['list']);
  expect(table.status).toBe(0);
  const lines = table.stdout.trimEnd().split('\n');
  // Patroni 3.0.2 names only the cluster in the title (the system identifier appears there only for Citus groups).
  expect(lines[0]).toMatch(new RegExp(`^\\+ Cluster: ${SCOPE} -+\\+`));
  expect(lines[1]).toMatch(/^\| Member +\| Host +\| Role +\| State +\| TL \| Lag in MB \|$/);
  expect(lines.filter((l) => /\| Leader +\|/.test(l))).toHaveLength(1);
  // The leader's Pod carries Patroni 3.0.2's role label value.
  expect((await getPod(admin, ns.name, holder!)).metadata.labels?.role).toBe('master');
});

it('show-config prints the dynamic configuration', () => {
  const r = patronictl(target, ['show-config']);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('ttl: 10');
  expect(r.stdout).toContain('loop_wait: 2');
});

it('switchover to a named candidate: "Successfully switched over", the candidate becomes Leader on a new timeline', async () => {
  const before = await healthy();
  const leader = leaderOf(before);
  const candidate = before.find((r) => r.Role !== 'Leader')!.Member;
  const r = patronictl(target, ['switchover', '--master', leader, '--candidate', candidate, '--force']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`Successfully switched over to "${candidate}"`));
  expect(leaderOf(await healthy())).toBe(candidate);
  // Replicas publish their timeline with their other status fields; all follow the new leader onto timeline 2.
  await eventually('every member on timeline 2', async () => (list().every((x) => x.TL === 2) ? true : undefined), 60_000, 1000);
});

it('history lists the timeline switch with the new leader', () => {
  const r = patronictl(target, ['history', '-f', 'json']);
  expect(r.status).toBe(0);
  const rows = JSON.parse(r.stdout) as { TL: number; LSN: number; Reason: string; Timestamp: string; 'New Leader': string }[];
  expect(rows.length).toBeGreaterThanOrEqual(1);
  expect(rows.at(-1)!.TL).toBe(1);
  expect(rows.at(-1)!['New Leader']).toBe(leaderOfSync());
});

function leaderOfSync(): string {
  return list().find((r) => r.Role === 'Leader')!.Member;
}

it('failover to a named candidate: the candidate becomes Leader', async () => {
  const before = await healthy();
  const candidate = before.find((r) => r.Role !== 'Leader')!.Member;
  const r = patronictl(target, ['failover', '--candidate', candidate, '--force']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  // patronictl 3.0.2 sends the current leader along; the hand-over is a graceful switchover, answered as Patroni
  // 3.0.2 answers its failover endpoint.
  expect(r.stdout).toMatch(new RegExp(`Successfully failed over to "${candidate}"`));
  expect(leaderOf(await healthy())).toBe(candidate);
});

it('pause and resume: Patroni\'s messages, and the cluster reports maintenance mode in between', async () => {
  await healthy();
  const p = patronictl(target, ['pause']);
  expect([p.status, p.stderr, p.stdout.trim()]).toEqual([0, '', 'Success: cluster management is paused']);
  const paused = patronictl(target, ['list']);
  expect(paused.stdout).toContain('Maintenance mode: on');
  const again = patronictl(target, ['pause']);
  expect(again.status).not.toBe(0);
  expect(again.stdout + again.stderr).toContain('Cluster is already paused');
  const r = patronictl(target, ['resume']);
  expect([r.status, r.stderr, r.stdout.trim()]).toEqual([0, '', 'Success: cluster management is resumed']);
  expect(patronictl(target, ['list']).stdout).not.toContain('Maintenance mode');
});
