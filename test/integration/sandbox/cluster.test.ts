// The sandbox cluster end to end: real agents with real PostgreSQL behind the simulated kubelet and kube-proxy.
// The primary Service's stable address reaches the lock holder's PostgreSQL (writable), the replicas Service a
// replica, and after `pgha switchover` the same address reaches the new leader.
import { Client } from 'pg';
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { eventually, type TestNamespace } from '../../fixtures/cluster';
import type { SandboxCluster } from '../../sandbox/cluster';
import { startTestSandbox, stopTestSandbox, type TestSandbox } from './test-sandbox';
import { holderOf } from '../agent/harness';
import { runPgha } from '../cli/run-pgha';

jest.setTimeout(240_000);
let sandbox: TestSandbox;
let admin: KubeClient;
let ns: TestNamespace;
let cluster: SandboxCluster;
let kubeconfig: string;

beforeAll(async () => {
  // Addresses of their own, so a sandbox someone runs on this machine does not collide with the test.
  sandbox = await startTestSandbox({ prefix: 'sbx', scope: 'sbx', members: 2, firstHost: 60 });
  ({ admin, ns, cluster } = sandbox);
  kubeconfig = sandbox.kubeconfig;
}, 240_000);

afterAll(() => stopTestSandbox(sandbox));

/** Which member answers at `addr`, and whether it is in recovery; undefined while nothing answers. */
async function whoAnswers(addr: { host: string; port: number }): Promise<{ host: string; inRecovery: boolean } | undefined> {
  const client = new Client({ host: addr.host, port: addr.port, user: 'postgres', password: cluster.superuser.password, database: 'postgres', connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const r = await client.query<{ host: string; in_recovery: boolean }>('select host(inet_server_addr()) as host, pg_is_in_recovery() as in_recovery');
    return { host: r.rows[0]!.host, inRecovery: r.rows[0]!.in_recovery };
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function primaryIs(name: string): Promise<void> {
  const host = cluster.member(name).host;
  await eventually(`the primary Service to reach ${name}`, async () => {
    const a = await whoAnswers(cluster.primary);
    return a && a.host === host && !a.inRecovery ? true : undefined;
  }, 120_000, 250);
}

it("the primary Service forwards to the leader's PostgreSQL and the replicas Service to a replica", async () => {
  const leader = await eventually('a leader', () => holderOf(admin, ns.name, 'sbx', false), 120_000);
  await primaryIs(leader);
  const replica = cluster.members.find((m) => m.name !== leader)!;
  await eventually('the replicas Service to reach the replica', async () => {
    const a = await whoAnswers(cluster.replicas);
    return a && a.host === replica.host && a.inRecovery ? true : undefined;
  }, 120_000, 250);
});

it('pgha switchover moves the lock, and the primary Service follows', async () => {
  const leader = await eventually('a leader', () => holderOf(admin, ns.name, 'sbx', false));
  const candidate = cluster.members.find((m) => m.name !== leader)!.name;
  // The candidate must be streaming before it can take over.
  await eventually('the candidate listed as a running replica', async () => {
    const r = await runPgha(['list', '--scope', 'sbx', '-n', ns.name, '--json'], { KUBECONFIG: kubeconfig });
    const m = (JSON.parse(r.stdout) as { members: { name: string; role: string; state: string }[] }).members.find((x) => x.name === candidate);
    return m?.role === 'replica' && (m.state === 'running' || m.state === 'streaming') ? true : undefined;
  }, 120_000, 500);
  const r = await runPgha(['switchover', '--scope', 'sbx', '-n', ns.name, '--candidate', candidate], { KUBECONFIG: kubeconfig });
  expect(r.stderr).toContain(`Switching over from ${leader} to ${candidate}`);
  expect(r.stderr).toContain(`lock held by ${candidate}`);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`Successfully switched over to "${candidate}"`));
  expect(await holderOf(admin, ns.name, 'sbx', false)).toBe(candidate);
  await primaryIs(candidate);
});
