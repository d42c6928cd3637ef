// The watched cache against the real API server: a broken stream resumes from the last resourceVersion without a
// new LIST; only 410 Gone makes it list again. The stream break and the 410 are injected at the client.
import { ApiServerPool } from '../../../agent/src/kube/api-server-pool';
import { KubeClient, type KubeRequest, type KubeResponse, type Query, type WatchEvent } from '../../../agent/src/kube/kube-client';
import { KubeApiError } from '../../../agent/src/kube/kube-error';
import { type KubeObject, ObjectCache, type ObjectCacheProps } from '../../../agent/src/kube/object-cache';
import { silentLogger } from '../../../agent/src/log/logger';
import { eventually } from '../../fixtures/cluster';
import { integrationSuite } from '../suite';
import { TcpProxy } from './harness';

jest.setTimeout(120_000);
const suite = integrationSuite('cache');

class CountingClient extends KubeClient {
  lists = 0;
  watches: (string | undefined)[] = [];
  breakCurrentWatch: (() => void) | undefined;
  goneOnNextWatch = false;

  override request<T>(req: KubeRequest): Promise<KubeResponse<T>> {
    if (req.method === 'GET') this.lists++;
    return super.request<T>(req);
  }

  override async watch<T>(
    path: string,
    query: Query,
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
    server?: string,
    idleTimeoutMs?: number,
  ): Promise<void> {
    this.watches.push(query.resourceVersion as string | undefined);
    if (this.goneOnNextWatch) {
      this.goneOnNextWatch = false;
      throw new KubeApiError('WATCH', path, 410, 'too old resource version', {}, undefined);
    }
    const local = new AbortController();
    this.breakCurrentWatch = () => local.abort();
    return super.watch(path, query, onEvent, AbortSignal.any([signal, local.signal]), server, idleTimeoutMs);
  }
}

const cm = (name: string, value: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels: { app: 'cache-test' }, annotations: { v: value } },
});

/** A cache of the suite namespace's ConfigMaps labelled `app=<app>`, as an agent keeps one (no bypass pool). */
function configMapCache(client: KubeClient, app: string, extra: Partial<ObjectCacheProps<KubeObject>> = {}): ObjectCache<KubeObject> {
  return new ObjectCache<KubeObject>({
    client,
    pool: new ApiServerPool({ client, logger: silentLogger, enabled: false, refreshEveryMs: 1000, requestTimeoutMs: 1000 }),
    logger: silentLogger,
    path: `/api/v1/namespaces/${suite.namespace}/configmaps`,
    labelSelector: `app=${app}`,
    listTimeoutMs: 5000,
    onChange: () => undefined,
    ...extra,
  });
}

it('resumes a broken watch from the last resourceVersion and lists again only after 410', async () => {
  const token = suite.cp.state.adminToken;
  const client = new CountingClient({ server: suite.cp.state.server, caPem: suite.cp.caPem, token: () => token });
  const cache = configMapCache(client, 'cache-test');
  const base = `/api/v1/namespaces/${suite.namespace}/configmaps`;
  try {
    await suite.admin.request({ method: 'POST', path: base, body: cm('one', '1') });
    cache.start();
    await eventually('the first list', async () => (cache.get('one') ? true : undefined));
    await eventually('a watch', async () => (client.watches.length === 1 ? true : undefined));
    expect(client.lists).toBe(1);

    // A broken stream: the cache watches again from where it was, and misses nothing written meanwhile.
    client.breakCurrentWatch!();
    await suite.admin.request({ method: 'POST', path: base, body: cm('two', '2') });
    await eventually('the change made while the stream was down', async () => (cache.get('two') ? true : undefined));
    expect(client.lists).toBe(1);
    expect(client.watches.length).toBeGreaterThanOrEqual(2);
    expect(client.watches[1]).toBeDefined();

    // 410 Gone: the version is too old, so it lists again, and deletions made meanwhile are seen.
    client.goneOnNextWatch = true;
    client.breakCurrentWatch!();
    await suite.admin.request({ method: 'DELETE', path: `${base}/one` });
    await eventually('the list after 410', async () => (client.lists === 2 ? true : undefined));
    await eventually('the deletion', async () => (cache.get('one') === undefined ? true : undefined));
    expect(cache.get('two')?.metadata.annotations?.v).toBe('2');
  } finally {
    await cache.stop();
    client.close();
  }
});

it('notices a watch whose packets are silently dropped within its bound, and resumes on a fresh connection', async () => {
  const proxy = await TcpProxy.start(suite.cp.state.server);
  const token = suite.cp.state.adminToken;
  // tlsServerName: the proxy is 127.0.0.1 too, but say so explicitly as in-cluster configuration does.
  const client = new CountingClient({ server: proxy.url, caPem: suite.cp.caPem, token: () => token, tlsServerName: 'localhost' });
  // A stream silent for 5 s is given up (an agent's bound is the server's bookmark period plus retry_timeout).
  const cache = configMapCache(client, 'cache-drop', { silenceLimitMs: 5000 });
  const base = `/api/v1/namespaces/${suite.namespace}/configmaps`;
  const obj = (v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'drop', labels: { app: 'cache-drop' }, annotations: { v } } });
  try {
    await suite.admin.request({ method: 'POST', path: base, body: obj('1') });
    cache.start();
    await eventually('the first list', async () => (cache.get('drop') ? true : undefined));
    await eventually('a watch', async () => (client.watches.length >= 1 ? true : undefined));
    const watchesBefore = client.watches.length;
    proxy.silenceOpen();
    const changedAt = Date.now();
    await suite.admin.request({
      method: 'PATCH',
      path: `${base}/drop`,
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { v: '2' } } },
    });
    // Without a silence limit the cache would wait for TCP keepalive (about 11 minutes); with it, within 5 s.
    await eventually(
      'the change made after the connection went silent',
      async () => (cache.get('drop')?.metadata.annotations?.v === '2' ? true : undefined),
      30_000,
    );
    expect(client.watches.length).toBeGreaterThan(watchesBefore);
    expect(client.lists).toBe(1);
    process.stdout.write(`${JSON.stringify({ event: 'silent-watch-noticed', afterMs: Date.now() - changedAt })}\n`);
  } finally {
    await cache.stop();
    client.close();
    await proxy.close();
  }
});

it('keeps one watch open while its objects change, however long past the old bound of ttl it runs', async () => {
  const token = suite.cp.state.adminToken;
  const client = new CountingClient({ server: suite.cp.state.server, caPem: suite.cp.caPem, token: () => token });
  const seen: string[] = [];
  // An agent's defaults (half-hour streams, a silence limit past the server's bookmark period).
  const cache = configMapCache(client, 'cache-long', { onChange: (c) => seen.push(c.object?.metadata.annotations?.v ?? 'deleted') });
  const base = `/api/v1/namespaces/${suite.namespace}/configmaps`;
  const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'long', labels: { app: 'cache-long' }, annotations: { v: '0' } } };
  try {
    await suite.admin.request({ method: 'POST', path: base, body: obj });
    cache.start();
    await eventually('the first list', async () => (cache.ready ? true : undefined));
    // A renewal every 2 s for 24 s, as a leader with loop_wait 2 makes: an agent with ttl 10 used to end its stream
    // every 8 s (three streams or more in this window).
    for (let v = 1; v <= 12; v++) {
      await suite.admin.request({
        method: 'PATCH',
        path: `${base}/long`,
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations: { v: String(v) } } },
      });
      await eventually(`change ${v}`, async () => (seen.includes(String(v)) ? true : undefined), 5000, 20);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    expect(client.watches).toHaveLength(1);
    expect(client.lists).toBe(1);
  } finally {
    await cache.stop();
    client.close();
  }
});
