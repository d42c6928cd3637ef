// A primary cut off from the API server stops accepting writes before its lock can expire anywhere else; another
// member takes over, and the old primary rejoins as a replica once it can reach the API again. Also when ttl is
// lowered in the dynamic configuration at the moment of the cut: every member times the lock by the ttl written in
// it, and the leader its lease by the ttl it wrote, whichever its last write carried.
import { STRATEGIC_MERGE_PATCH } from '../../../agent/src/kube/kube-client';
import { type AgentProcess, expectNoOverlap } from '../agent/harness';
import { type HaCluster, startLeaderFirst } from './ha-harness';
import { haSuite } from '../suite';

jest.setTimeout(300_000);
const suite = haSuite('ha-part');

const at = (ts: string | undefined) => (ts ? Date.parse(ts) : Number.NaN);

// Either fence stops the cut-off primary: the agent at its lease deadline, or, should the agent be late by more than
// the watchdog's grace (a loaded machine), the fence watchdog.
const FENCED = new Set(['leadership lost while running as a primary; stopping postgres now', 'lease expired with postgres running as a primary; killed it']);
const GONE = new Set(['postgres stopped', 'postgres exited unexpectedly']);

/** The cut-off leader stopped Postgres (fenced) before the new leader took the lock; returns the new leader. */
async function fencedBeforeTakeover(cluster: HaCluster, old: AgentProcess): Promise<string> {
  const fenced = await old.waitFor('postgres fenced on leadership loss', (l) => FENCED.has(l.msg), 60_000);
  const next = await cluster.writablePrimary(90_000, old.name);
  const acquired = cluster
    .agent(next)
    .lines.filter((l) => l.msg === 'acquired the lock')
    .at(-1);
  // Local clocks of one machine: the old primary was fenced, and stopped, before the new one took the lock. (The
  // watchdog logs whole seconds; the agent's "stopped" line has milliseconds.)
  expect(at(fenced.ts)).toBeLessThanOrEqual(at(acquired?.ts));
  const stopped = old.lines.find((l) => GONE.has(l.msg) && at(l.ts) >= Math.floor(at(fenced.ts) / 1000) * 1000);
  expect(stopped).toBeDefined();
  expect(at(stopped!.ts)).toBeLessThan(at(acquired?.ts));
  return next;
}

it('the cut-off primary stops Postgres before another member acquires the lock; it rejoins afterwards', async () => {
  const { cluster, proxy } = await suite.createProxiedCluster({ scope: 'part', size: 3, ttl: 10 });
  const old = await startLeaderFirst(cluster);
  await cluster.query('part-0', 'CREATE TABLE t (v int)');
  await cluster.query('part-0', 'INSERT INTO t VALUES (1)');

  proxy.freeze();
  const next = await fencedBeforeTakeover(cluster, old);
  // It accepts no writes any more.
  expect(await cluster.tryQuery('part-0', 'INSERT INTO t VALUES (2)')).toBeUndefined();
  expect(await cluster.query(next, 'SELECT v FROM t')).toEqual([{ v: 1 }]);

  await proxy.restore();
  await cluster.streaming('part-0', 120_000);
  expect(await cluster.holder()).toBe(next);
  expectNoOverlap(cluster.all);
});

it('ttl lowered from 30 to 10 and the leader cut off at once: the old primary stops before another member takes the lock', async () => {
  const { cluster, proxy } = await suite.createProxiedCluster({ scope: 'ttl', size: 3, ttl: 30 });
  const old = await startLeaderFirst(cluster);
  const path = `/api/v1/namespaces/${cluster.o.namespace}/configmaps/ttl-config`;
  const cfg = await suite.admin.request<{ metadata: { annotations?: Record<string, string> } }>({ method: 'GET', path });
  const config = { ...JSON.parse(cfg.body.metadata.annotations?.config ?? '{}'), ttl: 10 };
  await suite.admin.request({
    method: 'PATCH',
    path,
    contentType: STRATEGIC_MERGE_PATCH,
    body: { metadata: { annotations: { config: JSON.stringify(config) } } },
  });
  proxy.freeze();
  await fencedBeforeTakeover(cluster, old);
  expectNoOverlap(cluster.all);
  await proxy.restore();
  await cluster.streaming('ttl-0', 120_000);
});
