// Leader election between real agent processes on the real API server, in both store modes: the race for an
// empty lock, failover after SIGKILL and SIGTERM, role labels, and (Endpoints mode) subsets that move with the lock.
import { eventually } from '../../fixtures/cluster';
import { type AgentProcess, expectNoOverlap, type LockObject, stopAll } from './harness';
import { agentSuite } from '../suite';
import { sleep } from '../../../agent/src/clock';

jest.setTimeout(180_000);
const TTL = 8;
const suite = agentSuite('elect', { ttl: TTL });

const ipOf = (name: string) => `192.0.2.${10 + Number(name.slice(name.lastIndexOf('-') + 1))}`;

async function cluster(useEndpoints: boolean, count: number, kubernetes: Record<string, unknown> = {}): Promise<{ scope: string; agents: AgentProcess[] }> {
  const { scope, names } = await suite.newScope(count, useEndpoints ? 'ep' : 'cm');
  if (useEndpoints) {
    // The selector-less primary Service the user creates; the leader owns its Endpoints.
    await suite.admin.request({
      method: 'POST',
      path: `/api/v1/namespaces/${suite.namespace}/services`,
      body: { apiVersion: 'v1', kind: 'Service', metadata: { name: scope }, spec: { ports: [{ name: 'postgresql', port: 5432 }] } },
    });
  }
  const agents = names.map((name) => suite.start({ name, scope, useEndpoints, podIp: ipOf(name), kubernetes }));
  return { scope, agents };
}

async function settledHolder(scope: string, useEndpoints: boolean): Promise<string> {
  return eventually('a lock holder', () => suite.holderOf(scope, useEndpoints), 20_000, 50);
}

describe.each([
  ['ConfigMap', false],
  ['Endpoints', true],
])('%s mode', (_mode, useEndpoints) => {
  it('three agents racing for an empty lock: exactly one wins, every time', async () => {
    for (let rep = 0; rep < 4; rep++) {
      const { scope, agents } = await cluster(useEndpoints, 3);
      const holder = await settledHolder(scope, useEndpoints);
      await sleep(2_000);
      expect(await suite.holderOf(scope, useEndpoints)).toBe(holder);
      const winners = agents.filter((a) => a.find((l) => l.msg === 'acquired the lock')).map((a) => a.name);
      expect(winners).toEqual([holder]);
      // Losers saw the race as an expected outcome, not an error.
      for (const a of agents) expect(a.lines.filter((l) => l.level === 'error')).toEqual([]);
      await eventually('role labels', async () => {
        const roles = await Promise.all(agents.map(async (a) => (await suite.getPod(a.name)).metadata.labels?.role));
        const want = agents.map((a) => (a.name === holder ? 'primary' : 'replica'));
        return JSON.stringify(roles) === JSON.stringify(want) ? true : undefined;
      });
      const lock = (await suite.readLock(scope, useEndpoints))!;
      expect(lock.metadata.annotations).toMatchObject({ leader: holder, ttl: String(TTL), transitions: '1' });
      expect(lock.metadata.annotations?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
      expect(lock.metadata.labels).toEqual({ 'cluster-name': scope });
      expectNoOverlap(agents);
      await stopAll(agents);
    }
  });

  it('after the leader is killed (SIGKILL), another member holds the lock within ttl plus a small margin', async () => {
    const { scope, agents } = await cluster(useEndpoints, 3);
    const holder = await settledHolder(scope, useEndpoints);
    await sleep(1_500);
    const before = (await suite.readLock(scope, useEndpoints))!;
    const leader = agents.find((a) => a.name === holder)!;
    leader.signal('SIGKILL');
    await leader.exited;
    const next = await suite.newHolder(scope, holder, { timeoutMs: TTL * 1000 + 4_000, useEndpoints });
    expect(agents.map((a) => a.name)).toContain(next);
    const after = (await suite.readLock(scope, useEndpoints))!;
    expect(Number(after.metadata.annotations?.transitions)).toBe(Number(before.metadata.annotations?.transitions) + 1);
    expectNoOverlap(agents);
    await stopAll(agents);
  });

  it('after the leader is stopped (SIGTERM), it releases the lock and another member holds it within two seconds', async () => {
    const { scope, agents } = await cluster(useEndpoints, 3);
    const holder = await settledHolder(scope, useEndpoints);
    await sleep(1_500);
    const leader = agents.find((a) => a.name === holder)!;
    // Watch every version of the lock object while it changes hands.
    const versions: LockObject[] = [];
    const abort = new AbortController();
    const resource = useEndpoints ? 'endpoints' : 'configmaps';
    const name = useEndpoints ? scope : `${scope}-leader`;
    const watching = suite.admin
      .watch<LockObject>(
        `/api/v1/namespaces/${suite.namespace}/${resource}`,
        { fieldSelector: `metadata.name=${name}` },
        (e) => {
          if (e.type === 'ADDED' || e.type === 'MODIFIED') versions.push(e.object);
        },
        abort.signal,
      )
      .catch(() => undefined);
    await sleep(300);
    leader.signal('SIGTERM');
    const next = await suite.newHolder(scope, holder, { timeoutMs: 2_000, everyMs: 20, useEndpoints });
    expect(await leader.exited).toBe(0);
    await leader.waitFor('the lock released', (l) => l.msg === 'released the lock', 5_000);
    await eventually("the old leader's role label removed", async () => ((await suite.getPod(holder)).metadata.labels?.role === undefined ? true : undefined));
    await eventually('the new leader labelled primary', async () => ((await suite.getPod(next)).metadata.labels?.role === 'primary' ? true : undefined));
    await sleep(500);
    abort.abort();
    await watching;
    expect(versions.some((v) => !v.metadata.annotations?.leader)).toBe(true);
    if (useEndpoints) {
      // The lock and the traffic switch in one write: every version that names a leader points at its Pod, and the
      // released version points nowhere.
      for (const v of versions) {
        const leaderName = v.metadata.annotations?.leader;
        const addresses = (v.subsets ?? []).flatMap((s) => s.addresses ?? []);
        if (leaderName) {
          expect(addresses.map((a) => [a.ip, a.targetRef?.name])).toEqual([[ipOf(leaderName), leaderName]]);
          expect(v.subsets?.[0]?.ports).toEqual([{ name: 'postgresql', port: 5432, protocol: 'TCP' }]);
        } else {
          expect(addresses).toEqual([]);
        }
      }
    }
    expectNoOverlap(agents);
    await stopAll(agents);
  });
});

describe('role labels', () => {
  it('follow role_label, the configured values and tmp_role_label, and are removed when a member stops', async () => {
    const { scope, agents } = await cluster(false, 3, {
      role_label: 'pgha-role',
      leader_label_value: 'master',
      follower_label_value: 'standby',
      tmp_role_label: 'spilo-role',
    });
    const holder = await settledHolder(scope, false);
    const labelsOf = async (name: string) => (await suite.getPod(name)).metadata.labels ?? {};
    await eventually('labels on every member', async () => {
      for (const a of agents) {
        const want = a.name === holder ? 'master' : 'standby';
        const l = await labelsOf(a.name);
        if (l['pgha-role'] !== want || l['spilo-role'] !== want) return undefined;
      }
      return true;
    });
    const follower = agents.find((a) => a.name !== holder)!;
    const status = JSON.parse((await suite.getPod(follower.name)).metadata.annotations!.status!);
    expect(status).toEqual({
      conn_url: `postgres://${ipOf(follower.name)}:5432/postgres`,
      api_url: `http://${ipOf(follower.name)}:8008/patroni`,
      state: 'running',
      role: 'replica',
      version: '0.1.0',
    });
    expect(await follower.stop()).toBe(0);
    const l = await labelsOf(follower.name);
    expect(l['pgha-role']).toBeUndefined();
    expect(l['spilo-role']).toBeUndefined();
    expect(l['cluster-name']).toBe(scope);
    await stopAll(agents);
  });

  it('are not rewritten while nothing changes (no pod PATCH in steady state)', async () => {
    const { scope, agents } = await cluster(false, 3);
    await settledHolder(scope, false);
    await sleep(2_500);
    const rvs = await Promise.all(agents.map(async (a) => (await suite.getPod(a.name)).metadata));
    await sleep(3 * 1_000);
    const again = await Promise.all(agents.map(async (a) => (await suite.getPod(a.name)).metadata));
    expect(again.map((m) => m.resourceVersion)).toEqual(rvs.map((m) => m.resourceVersion));
    await stopAll(agents);
  });
});
