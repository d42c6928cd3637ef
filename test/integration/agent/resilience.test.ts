// The lock under trouble, with real agent processes: a leader cut off from the API server, skewed wall clocks,
// malformed annotations and a deleted lock object, and configuration errors.
import { MERGE_PATCH } from '../../../agent/src/kube/kube-client';
import { eventually } from '../../fixtures/cluster';
import { expectNoOverlap, stopAll, TcpProxy } from './harness';
import { agentSuite } from '../suite';
import { sleep } from '../../../agent/src/clock';

jest.setTimeout(180_000);
const TTL = 8;
const suite = agentSuite('resil', { ttl: TTL });

/** A suite.kubeconfig that reaches the API server through a proxy the test can cut. */
async function proxiedKubeconfig(name: string): Promise<{ proxy: TcpProxy; kubeconfig: string }> {
  const proxy = await TcpProxy.start(suite.cp.state.server);
  suite.onTeardown(() => proxy.close());
  return { proxy, kubeconfig: suite.kubeconfigFor(name, proxy.url) };
}

describe.each([
  ['refuses connections', 'cut'],
  ['drops packets', 'freeze'],
] as const)('a leader whose API server %s', (_how, method) => {
  it('stops acting as leader before its ttl runs out, and only then does another member take over', async () => {
    const { scope, names } = await suite.newScope(3);
    const { proxy, kubeconfig: viaProxy } = await proxiedKubeconfig('cut');
    const leader = suite.start({ name: names[0]!, scope, kubeconfig: viaProxy });
    await eventually('the first member to lead', async () => ((await suite.holderOf(scope)) === names[0] ? true : undefined));
    const others = names.slice(1).map((name) => suite.start({ name, scope }));
    await sleep(2_000);
    const cutAt = Date.now();
    if (method === 'cut') await proxy.cut();
    else proxy.freeze();
    const stepDown = await leader.waitFor('step-down', (l) => l.msg === 'stopped acting as leader', TTL * 1000 + 2_000);
    expect(stepDown.cause).toBe('lease-deadline');
    const next = await suite.newHolder(scope, names[0]!, { timeoutMs: TTL * 1000 + 4_000 });
    const stoppedAt = Date.parse(stepDown.ts);
    expect(stoppedAt - cutAt).toBeLessThan(TTL * 1000);
    const successor = others.find((a) => a.name === next)!;
    // The API shows the new holder before the successor's log line reaches us: wait for the line itself.
    const acquired = await successor.waitFor('the successor to log its acquisition', (l) => l.msg === 'acquired the lock', 5_000);
    expect(Date.parse(acquired.ts)).toBeGreaterThan(stoppedAt);
    expect(leader.running).toBe(true);
    // Back online, the old leader follows and shows the replica role.
    await proxy.restore();
    await eventually(
      'the old leader labelled replica',
      async () => ((await suite.getPod(names[0]!)).metadata.labels?.role === 'replica' ? true : undefined),
      15_000,
    );
    expectNoOverlap([leader, ...others]);
    await stopAll([leader, ...others]);
  });
});

describe('clock skew', () => {
  it('a member whose wall clock is minutes off neither steals a live lock nor keeps an expired one', async () => {
    const { scope, names } = await suite.newScope(3);
    // The leader's clock is 10 minutes behind: its renewTime looks stale to anyone comparing clocks.
    const { proxy, kubeconfig: viaProxy } = await proxiedKubeconfig('skew');
    const leader = suite.start({ name: names[0]!, scope, kubeconfig: viaProxy, wallClockOffsetMs: -600_000 });
    await eventually('the skewed member to lead', async () => ((await suite.holderOf(scope)) === names[0] ? true : undefined));
    // One follower is 10 minutes ahead: to it, every timestamp looks ancient.
    const ahead = suite.start({ name: names[1]!, scope, wallClockOffsetMs: 600_000 });
    const normal = suite.start({ name: names[2]!, scope });
    await sleep(2 * TTL * 1000);
    expect(await suite.holderOf(scope)).toBe(names[0]);
    expect(ahead.find((l) => l.msg === 'acquired the lock')).toBeUndefined();
    expect(normal.find((l) => l.msg === 'acquired the lock')).toBeUndefined();
    const lock = await suite.readLock(scope);
    expect(lock?.metadata.annotations?.transitions).toBe('1');
    expect(Date.parse(lock!.metadata.annotations!.renewTime!.replace(/(\.\d{3})\d{3}/, '$1'))).toBeLessThan(Date.now() - 500_000);

    // Now the skewed leader loses the API: it steps down by its monotonic clock, and the others take over once the
    // lock has been unchanged for ttl by theirs, not by comparing renewTime with their own clocks.
    await proxy.cut();
    const next = await suite.newHolder(scope, names[0]!, { timeoutMs: TTL * 1000 + 4_000 });
    expect([names[1], names[2]]).toContain(next);
    expect(leader.find((l) => l.msg === 'stopped acting as leader')).toBeDefined();
    expectNoOverlap([leader, ahead, normal]);
    await stopAll([leader, ahead, normal]);
  });
});

describe('bad input', () => {
  it('malformed annotations written by someone else are logged, not fatal, and cause no split brain', async () => {
    const { scope, names } = await suite.newScope(3);
    const agents = names.map((name) => suite.start({ name, scope }));
    const holder = await eventually('a holder', () => suite.holderOf(scope));
    await sleep(1_500);
    await suite.admin.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${suite.namespace}/configmaps/${scope}-leader`,
      contentType: MERGE_PATCH,
      body: { metadata: { annotations: { ttl: 'thirty', transitions: 'many', optime: '{' } } },
    });
    const follower = names.find((n) => n !== holder)!;
    await suite.admin.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${suite.namespace}/pods/${follower}`,
      contentType: MERGE_PATCH,
      body: { metadata: { annotations: { status: '{"state": "running", ' } } },
    });
    for (const a of agents) await a.waitFor('the lock problem logged', (l) => l.msg === 'lock annotations unreadable; using defaults');
    for (const a of agents.filter((x) => x.name !== follower))
      await a.waitFor('the member problem logged', (l) => l.msg === 'member status unreadable; member ignored');
    // The member whose status was damaged writes it again; the leader's renew rewrites the lock's ttl.
    await eventually('the status repaired', async () => {
      const raw = (await suite.getPod(follower)).metadata.annotations?.status ?? '';
      return raw.startsWith('{"conn_url"') ? true : undefined;
    });
    await eventually('the ttl repaired', async () => ((await suite.readLock(scope))?.metadata.annotations?.ttl === String(TTL) ? true : undefined));
    expect(await suite.holderOf(scope)).toBe(holder);
    for (const a of agents) expect(a.running).toBe(true);
    expectNoOverlap(agents);
    await stopAll(agents);
  });

  it('a lock object deleted under the agents is re-created by its holder; nobody else takes over', async () => {
    const { scope, names } = await suite.newScope(3);
    const agents = names.map((name) => suite.start({ name, scope }));
    const holder = await eventually('a holder', () => suite.holderOf(scope));
    await sleep(1_500);
    const before = await suite.readLock(scope);
    await suite.admin.request({ method: 'DELETE', path: `/api/v1/namespaces/${suite.namespace}/configmaps/${scope}-leader` });
    // A deletion carries no version to write against, so the others wait a full ttl before treating it as free;
    // the holder, still leading, re-creates it with its next renew.
    const recreated = await eventually('the lock re-created', () => suite.readLock(scope), TTL * 1000);
    expect(recreated.metadata.annotations?.leader).toBe(holder);
    expect(recreated.metadata.annotations?.transitions).toBe(before?.metadata.annotations?.transitions);
    expect(recreated.metadata.annotations?.acquireTime).toBe(before?.metadata.annotations?.acquireTime);
    await sleep(TTL * 1000);
    expect(await suite.holderOf(scope)).toBe(holder);
    for (const a of agents) expect(a.find((l) => l.msg === 'acquired the lock' && a.name !== holder)).toBeUndefined();
    for (const a of agents) expect(a.running).toBe(true);
    for (const a of agents) expect(a.lines.filter((l) => l.level === 'error')).toEqual([]);
    expectNoOverlap(agents);
    await stopAll(agents);
  });

  it.each([
    ['an unknown key', { unknown_key: 1 }, 'unknown_key'],
    ['a wrong type', { ttl: 'thirty' }, 'ttl'],
    ['ttl below loop_wait + 2 * retry_timeout', { ttl: 5, loop_wait: 2, retry_timeout: 2 }, 'ttl'],
  ])('refuses to start with %s, naming the key', async (_what, extra, key) => {
    const { scope, names } = await suite.newScope(1);
    const a = suite.start({ name: names[0]!, scope, extra });
    expect(await a.exited).toBe(2);
    const line = await a.waitFor('the configuration error logged', (l) => l.msg === 'invalid configuration', 5_000);
    expect(String(line.key)).toContain(key);
    expect(line.allowed).toEqual(expect.any(String));
  });
});
