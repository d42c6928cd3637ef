// The Kubernetes store in-process against the real API server: many repetitions of a race for an empty lock,
// a write whose answer was lost, the initialize race, and the objects Endpoints mode creates.
import { systemClock } from '../../../agent/src/clock';
import { ApiServerPool } from '../../../agent/src/kube/api-server-pool';
import { KubeClient, type KubeRequest, type KubeResponse, MERGE_PATCH } from '../../../agent/src/kube/kube-client';
import { silentLogger } from '../../../agent/src/log/logger';
import { KubeStore } from '../../../agent/src/store/kube-store';
import { eventually } from '../../fixtures/cluster';
import { integrationSuite } from '../suite';

jest.setTimeout(180_000);
const suite = integrationSuite('store');
let scopes = 0;
const open: { store: KubeStore; client: KubeClient }[] = [];

suite.onTeardown(async () => {
  for (const o of open) {
    await o.store.stop();
    o.client.close();
  }
});

/**
 * A client whose next write reaches the server but whose answer is lost, as when a connection breaks mid-reply;
 * with `cutAfterNextWrite`, every request after that write fails too (the API is cut off) until `cut` is cleared.
 */
class LossyClient extends KubeClient {
  loseNextWriteAnswer = false;
  cutAfterNextWrite = false;
  cut = false;
  writes = 0;
  override async request<T>(req: KubeRequest): Promise<KubeResponse<T>> {
    if (this.cut) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const write = req.method === 'PATCH' || req.method === 'POST';
    if (write) this.writes++;
    const res = await super.request<T>(req);
    if (write && (this.loseNextWriteAnswer || this.cutAfterNextWrite)) {
      this.cut = this.cutAfterNextWrite;
      this.loseNextWriteAnswer = false;
      this.cutAfterNextWrite = false;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    return res;
  }
}

async function makeStore(
  scope: string,
  name: string,
  useEndpoints = false,
  onClusterObjectChange?: () => void,
  lockAnnotations?: () => Record<string, string | null>,
): Promise<{ store: KubeStore; client: LossyClient }> {
  const token = suite.cp.state.adminToken;
  const client = new LossyClient({ server: suite.cp.state.server, caPem: suite.cp.caPem, token: () => token });
  let ready!: () => void;
  const synced = new Promise<void>((r) => (ready = r));
  const store = new KubeStore({
    client,
    pool: new ApiServerPool({ client, logger: silentLogger, enabled: false, refreshEveryMs: 1000, requestTimeoutMs: 1000 }),
    clock: systemClock(),
    logger: silentLogger,
    namespace: suite.namespace,
    scope,
    name,
    ttlSeconds: 30,
    retryTimeoutMs: 5_000,
    useEndpoints,
    scopeLabel: 'cluster-name',
    labels: {},
    podIp: '192.0.2.20',
    ports: [{ name: 'postgresql', port: 5432 }],
    retriableHttpCodes: [],
    status: {
      connUrl: 'postgres://x:5432/postgres',
      apiUrl: 'http://x:8008/patroni',
      version: '0',
      roleLabel: 'role',
      leaderLabelValue: 'primary',
      followerLabelValue: 'replica',
    },
    onLockChange: () => undefined,
    onReady: ready,
    onClusterObjectChange,
    ...(lockAnnotations ? { lockAnnotations } : {}),
  });
  await store.start();
  await synced;
  open.push({ store, client });
  return { store, client };
}

describe('KubeStore', () => {
  it('lets exactly one of four stores win a race for an empty lock, across many repetitions', async () => {
    for (let rep = 0; rep < 25; rep++) {
      const scope = `race${++scopes}`;
      const stores = await Promise.all(['a', 'b', 'c', 'd'].map((n) => makeStore(scope, n)));
      const results = await Promise.all(stores.map(({ store }) => store.acquire({ ...store.lock(), holder: store.lock().holder }, 5_000, 30)));
      const winners = results.map((r, i) => (r.outcome === 'written' ? ['a', 'b', 'c', 'd'][i] : null)).filter(Boolean);
      expect(winners).toHaveLength(1);
      expect(await suite.holderOf(scope)).toBe(winners[0]);
      // Every loser learned who won.
      for (const r of results) if (r.outcome === 'conflict') expect(r.holder).toBe(winners[0]);
      for (const { store, client } of stores) {
        await store.stop();
        client.close();
      }
      open.length = 0;
    }
  });

  it('counts a retried write whose first answer was lost as written, once the stored lock equals ours', async () => {
    const scope = `lost${++scopes}`;
    const { store, client } = await makeStore(scope, 'a');
    expect((await store.acquire(store.lock(), 5_000, 30)).outcome).toBe('written');
    await eventually('the cache to see our lock', async () => (store.lock().holder === 'a' ? true : undefined));
    // The renew lands, its answer is lost, the retry carries the old resourceVersion and gets 409: the store
    // reads the lock, finds exactly what it wrote, and reports success.
    client.loseNextWriteAnswer = true;
    const before = client.writes;
    const basis = store.lock();
    expect((await store.renew(basis, 5_000, 30)).outcome).toBe('written');
    expect(client.writes - before).toBe(2);
    expect((await suite.readLock(scope))?.metadata.annotations?.leader).toBe('a');
    // A stale renew of a lock someone else now holds is a conflict, not a success.
    const { store: other } = await makeStore(scope, 'b');
    const stale = other.lock();
    await suite.admin.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${suite.namespace}/configmaps/${scope}-leader`,
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { leader: 'c' } } },
    });
    expect(await other.acquire(stale, 5_000, 30)).toEqual({ outcome: 'conflict', holder: 'c' });
  });

  it('keeps the failsafe topology of a write whose answer was lost until a later write is confirmed', async () => {
    const scope = `topo${++scopes}`;
    let topology: Record<string, string> = { a: 'http://a' };
    const { store, client } = await makeStore(scope, 'a', false, undefined, () => ({ failsafe: JSON.stringify(topology) }));
    expect((await store.acquire(store.lock(), 5_000, 30)).outcome).toBe('written');
    expect(store.failsafeWritten()).toEqual({ a: 'http://a' });
    await eventually('the cache to see our lock', async () => (store.lock().failsafe?.a ? true : undefined));
    // A member joins; the renew that names it lands, but its answer is lost and the API is cut off after it. (The
    // watch, which this client does not cut, may or may not show it: the store cannot count on it.)
    topology = { a: 'http://a', c: 'http://c' };
    client.cutAfterNextWrite = true;
    await expect(store.renew(store.lock(), 1_500, 30)).rejects.toThrow(/retries exhausted/);
    expect((await suite.readLock(scope))?.metadata.annotations?.failsafe).toBe(JSON.stringify(topology));
    expect(store.failsafeWritten()).toEqual({ a: 'http://a', c: 'http://c' });
    // Back in touch, c is gone again: once a renew is confirmed, only what it wrote may be stored.
    client.cut = false;
    topology = { a: 'http://a' };
    await eventually('the cache to see the landed write', async () => (store.lock().failsafe?.c ? true : undefined));
    expect((await store.renew(store.lock(), 5_000, 30)).outcome).toBe('written');
    expect(store.failsafeWritten()).toEqual({ a: 'http://a' });
  });

  it('lets exactly one store win the initialize race on <scope>-config', async () => {
    const scope = `init${++scopes}`;
    const stores = await Promise.all(['a', 'b', 'c'].map((n) => makeStore(scope, n)));
    const won = await Promise.all(stores.map(({ store }) => store.claimInitialize()));
    expect(won.filter(Boolean)).toHaveLength(1);
    const winner = stores[won.indexOf(true)]!.store;
    await eventually('the config object in the cache', async () => (await winner.setInitialized('7312345678901234567')) || undefined);
    const cm = await suite.admin.request<{ metadata: { annotations: Record<string, string>; labels: Record<string, string> } }>({
      method: 'GET',
      path: `/api/v1/namespaces/${suite.namespace}/configmaps/${scope}-config`,
    });
    expect(cm.body.metadata.annotations.initialize).toBe('7312345678901234567');
    expect(cm.body.metadata.labels).toEqual({ 'cluster-name': scope });
  });

  it('in Endpoints mode, creates the headless <scope>-config Service and writes lock and subsets together', async () => {
    const scope = `ep${++scopes}`;
    await suite.createMemberPods(scope, ['a']);
    const { store } = await makeStore(scope, 'a', true);
    const svc = await suite.admin.request<{ spec: { clusterIP: string; selector?: unknown } }>({
      method: 'GET',
      path: `/api/v1/namespaces/${suite.namespace}/services/${scope}-config`,
    });
    expect(svc.body.spec.clusterIP).toBe('None');
    expect(svc.body.spec.selector).toBeUndefined();
    expect((await store.acquire(store.lock(), 5_000, 30)).outcome).toBe('written');
    const ep = (await suite.readLock(scope, true))!;
    expect(ep.metadata.annotations?.leader).toBe('a');
    expect(ep.subsets).toEqual([
      {
        addresses: [expect.objectContaining({ ip: '192.0.2.20', targetRef: expect.objectContaining({ kind: 'Pod', name: 'a' }) })],
        ports: [{ name: 'postgresql', port: 5432, protocol: 'TCP' }],
      },
    ]);
    await eventually('the cache to see our lock', async () => (store.lock().holder === 'a' ? true : undefined));
    expect((await store.release(store.lock(), 5_000)).outcome).toBe('written');
    const released = (await suite.readLock(scope, true))!;
    expect(released.metadata.annotations?.leader).toBeUndefined();
    expect(released.subsets ?? []).toEqual([]);
  });

  it("wakes a member when the holder's Pod changes where or as what it runs, and not for other Pod changes", async () => {
    const scope = `w${++scopes}`;
    await suite.createMemberPods(scope, [`${scope}-0`, `${scope}-1`, `${scope}-2`]);
    const { store: leader } = await makeStore(scope, `${scope}-0`);
    expect((await leader.acquire(leader.lock(), 5_000, 30)).outcome).toBe('written');
    let wakes = 0;
    const { store: follower } = await makeStore(scope, `${scope}-1`, false, () => wakes++);
    await eventually('the follower to see the holder', async () => (follower.lock().holder === `${scope}-0` ? true : undefined));
    const setStatus = (pod: string, status: Record<string, unknown>) =>
      suite.admin.request({
        method: 'PATCH',
        path: `/api/v1/namespaces/${suite.namespace}/pods/${pod}`,
        contentType: MERGE_PATCH,
        body: { metadata: { annotations: { status: JSON.stringify(status) } } },
      });
    // A change to the holder's Pod that says nothing about where it runs (as the scheduler or a controller makes) wakes nobody.
    await suite.admin.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${suite.namespace}/pods/${scope}-0`,
      contentType: MERGE_PATCH,
      body: { metadata: { labels: { unrelated: 'yes' } } },
    });
    await eventually('the label in the cache', async () =>
      follower.podObjects().find((p) => p.metadata.name === `${scope}-0`)?.metadata.labels?.unrelated === 'yes' ? true : undefined,
    );
    expect(wakes).toBe(0);
    const running = { conn_url: 'postgres://192.0.2.20:5432/postgres', state: 'running', role: 'replica' };
    await setStatus(`${scope}-0`, running);
    await eventually('a wake for the holder running', async () => (wakes >= 1 ? true : undefined));
    await setStatus(`${scope}-0`, { ...running, role: 'primary' });
    await eventually('a wake for the holder promoted', async () => (wakes >= 2 ? true : undefined));
    const before = wakes;
    // Another member's Pod, and the holder's position alone: nothing the others' plans depend on.
    await setStatus(`${scope}-2`, { ...running, conn_url: 'postgres://192.0.2.22:5432/postgres' });
    await setStatus(`${scope}-0`, { ...running, role: 'primary', xlog_location: 12345 });
    // Once the follower's cache holds both changes, they have been handled: no wake for either.
    const seen = (pod: string, text: string) =>
      follower
        .podObjects()
        .find((p) => p.metadata.name === pod)
        ?.metadata.annotations?.status?.includes(text);
    await eventually('both changes in the cache', async () => (seen(`${scope}-2`, '192.0.2.22') && seen(`${scope}-0`, 'xlog_location') ? true : undefined));
    expect(wakes).toBe(before);
    await setStatus(`${scope}-0`, { ...running, role: 'primary', conn_url: 'postgres://192.0.2.30:5432/postgres' });
    await eventually('a wake for the new address', async () => (wakes > before ? true : undefined));
  });
});
