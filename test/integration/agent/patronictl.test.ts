// Compatibility: Debian's patronictl (Patroni 3.0.2) reads a cluster our agents run, in both modes: the members
// from their Pods' status, the leader from the lock.
import { eventually } from '../../fixtures/cluster';
import { patronictl } from '../../fixtures/patronictl';
import { stopAll } from './harness';
import { agentSuite } from '../suite';

jest.setTimeout(120_000);
const suite = agentSuite('ctl');

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
    await suite.createMemberPods(scope, names);
    const agents = names.map((name, i) => suite.start({ name, scope, useEndpoints, podIp: `192.0.2.${60 + i}` }));
    const holder = await eventually('a holder', () => suite.holderOf(scope, useEndpoints));
    await eventually('every member published', async () => {
      for (const n of names) if (!(await suite.getPod(n)).metadata.annotations?.status) return undefined;
      return true;
    });
    const r = patronictl({ scope, namespace: suite.namespace, kubeconfig: suite.kubeconfig, context: 'c', useEndpoints }, ['list', '-f', 'json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const listed = (JSON.parse(r.stdout) as ListedMember[]).sort((a, b) => a.Member.localeCompare(b.Member));
    expect(listed.map((m) => [m.Member, m.Role, m.State, m.Host])).toEqual(
      names.map((n, i) => [n, n === holder ? 'Leader' : 'Replica', 'running', `192.0.2.${60 + i}`]),
    );
    await stopAll(agents);
  });
});
