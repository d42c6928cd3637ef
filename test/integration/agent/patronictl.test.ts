// Compatibility: Debian's patronictl (Patroni 3.0.2) reads a cluster our agents run, in both modes: the members
// from their Pods' status, the leader from the lock.
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { createTestNamespace, eventually, testControlPlane, type TestNamespace } from '../../fixtures/cluster';
import { patronictl } from '../../fixtures/patronictl';
import { AgentProcess, agentBuild, createMemberPods, getPod, holderOf, stopAll, workDir, writeKubeconfig } from './harness';

jest.setTimeout(120_000);
const cp = testControlPlane();
let admin: KubeClient;
let ns: TestNamespace;
let dir: string;
let kubeconfig: string;
const started: AgentProcess[] = [];

beforeAll(async () => {
  admin = cp.adminClient();
  ns = await createTestNamespace(admin, 'ctl');
  dir = workDir('ctl');
  kubeconfig = writeKubeconfig(dir, 'admin', cp.state.server, cp.state.caFile, cp.state.adminToken);
  agentBuild();
}, 180_000);

afterAll(async () => {
  await stopAll(started);
  await ns.delete();
  admin.close();
});

interface ListedMember {
  Member: string;
  Host: string;
  Role: string;
  State: string;
}

describe.each([
  ['ConfigMap', false],
  ['Endpoints', true],
])('%s mode', (mode, useEndpoints) => {
  it('patronictl list shows every member running and the lock holder as Leader', async () => {
    const scope = `ctl${mode === 'Endpoints' ? 'ep' : 'cm'}`;
    const names = [0, 1, 2].map((i) => `${scope}-${i}`);
    await createMemberPods(admin, ns.name, scope, names);
    const agents = names.map((name, i) => AgentProcess.start({ name, scope, namespace: ns.name, kubeconfig, useEndpoints, podIp: `192.0.2.${60 + i}` }, dir));
    started.push(...agents);
    const holder = await eventually('a holder', () => holderOf(admin, ns.name, scope, useEndpoints));
    await eventually('every member published', async () => {
      for (const n of names) if (!(await getPod(admin, ns.name, n)).metadata.annotations?.status) return undefined;
      return true;
    });
    const r = patronictl({ scope, namespace: ns.name, kubeconfig, context: 'c', useEndpoints }, ['list', '-f', 'json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const listed = (JSON.parse(r.stdout) as ListedMember[]).sort((a, b) => a.Member.localeCompare(b.Member));
    expect(listed.map((m) => [m.Member, m.Role, m.State, m.Host])).toEqual(
      names.map((n, i) => [n, n === holder ? 'Leader' : 'Replica', 'running', `192.0.2.${60 + i}`]),
    );
    await stopAll(agents);
  });
});
