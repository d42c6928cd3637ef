// Losing the primary on a real node, three ways a production cluster loses it, with writers that record every
// acknowledged commit: the Pod deleted (kubectl delete pod), every process of its container killed with SIGKILL,
// and its agent alone frozen (SIGSTOP) while PostgreSQL runs on. Each time a replica must take writes, the old
// primary must never take writes once the new one does, and the old member must come back as a replica.
import { eventually } from '../fixtures/cluster';
import { containerProcesses, FAST, fastCluster, killContainers, newPrimary, setDynamicConfig, WriterGroup } from './support/faults';
import { E2eSession, report } from './support/e2e-cluster';
import { sleep } from '../../agent/src/clock';

const session = new E2eSession();
afterEach(() => session.cleanup());
afterAll(() => session.close());

it('kubectl delete pod of the primary: a replica takes writes, nothing acknowledged is lost, the member rejoins', async () => {
  const c = await fastCluster(session, 'e2e-delete');
  const old = await c.healthy();
  const g = await WriterGroup.start(c);
  const t0 = performance.now();
  await c.cluster.kubectl(['delete', 'pod', '-n', c.namespace, old, '--wait=false']);
  const next = await newPrimary(c, g, old, t0);
  await c.healthy();
  await g.stop();
  const v = await g.verdict(next.ip);
  report('delete-pod', { outageMs: Math.round(g.service.outageAfter(t0)), ...v, lost: v.lost.length });
  expect(v.overlapMs).toBe(0);
  expect(v.lost).toEqual([]);
}, 300_000);

it("SIGKILL of every process in the primary's container (synchronous mode): writes resume, nothing acknowledged is lost", async () => {
  const c = await fastCluster(session, 'e2e-sigkill');
  await c.healthy();
  await setDynamicConfig(c, { synchronous_mode: true });
  // The leader lists a synchronous standby once one streams in sync.
  await eventually(
    'a synchronous standby',
    async () => {
      const rows = await c.sql<{ n: string }>(await c.target(), "SELECT count(*) AS n FROM pg_stat_replication WHERE sync_state = 'sync'");
      return Number(rows[0]?.n) >= 1 ? true : undefined;
    },
    60_000,
    200,
  );
  const old = await c.healthy();
  const g = await WriterGroup.start(c);
  const pod = (await c.pods()).find((p) => p.name === old)!;
  const t0 = performance.now();
  killContainers(c, pod);
  // The kubelet restarts the container at once; the lock may still name it, and then it leads again (as Patroni's
  // member would), or it has expired and a synchronous standby took over. Either way writes resume.
  await c.healthy();
  const next = await newPrimary(c, g, undefined, t0);
  await g.stop();
  const v = await g.verdict(next.ip);
  report('sigkill-container', {
    outageMs: Math.round(g.service.outageAfter(t0)),
    primaryAfter: next.name === old ? 'same member' : 'another member',
    ...v,
    lost: v.lost.length,
  });
  expect(v.overlapMs).toBe(0);
  expect(v.lost).toEqual([]);
}, 300_000);

it('a frozen agent (SIGSTOP of the agent alone) never leaves its PostgreSQL taking writes once another member leads', async () => {
  const c = await fastCluster(session, 'e2e-frozen');
  const old = await c.healthy();
  const oldPod = (await c.pods()).find((p) => p.name === old)!;
  // One writer through the primary Service (its connection stays where it was opened), one opening a connection per
  // commit through it (new connections follow the Service), one straight to the old Pod.
  const g = await WriterGroup.start(c, { directTo: old, followService: true });
  const { agent } = containerProcesses(c, oldPod);
  expect(agent).toBeDefined();
  const t0 = performance.now();
  process.kill(agent!, 'SIGSTOP');
  let next: Awaited<ReturnType<typeof newPrimary>>;
  try {
    next = await newPrimary(c, g, old, t0, 60_000);
    // Keep it frozen as long as the reproduction did (20 s), so a late write of the old primary would show.
    const frozenFor = 20_000 - (performance.now() - t0);
    if (frozenFor > 0) await sleep(frozenFor);
  } finally {
    process.kill(agent!, 'SIGCONT');
  }
  // Whatever the resumed agent does, the writers have had their chance against the old primary by now.
  await sleep(5_000);
  await g.stop();
  const lastOldAck = Math.max(...g.writers.flatMap((w) => w.acksBy(oldPod.ip!)).map((a) => a.at));
  const v = await g.verdict(next.ip);
  report('frozen-agent', {
    oldStoppedTakingWritesAfterMs: Math.round(lastOldAck - t0),
    newPrimaryTookWritesAfterMs: Math.round(next.firstAckAt - t0),
    ttlMs: FAST.ttl * 1000,
    ...v,
    lost: v.lost.length,
  });
  expect(v.overlapMs).toBe(0);
  expect(lastOldAck).toBeLessThan(next.firstAckAt);
  // The old member comes back by itself, as a replica of the new primary.
  await c.healthy(180_000);
}, 400_000);
