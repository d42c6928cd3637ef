// Write outage as a client sees it through the primary Service on the real node (kubelet, containerd, kube-proxy;
// test/node/), for the events that move or restart the primary: a planned switchover, `kubectl delete pod` of the
// primary, SIGKILL of every process in the primary's container, and a rolling update of the StatefulSet (which also
// counts the changes of primary). Also the agent's memory in its container. A 3-member cluster from the plain
// manifests, ttl 10, loop_wait 2, retry_timeout 4.
//   npm run bench -- failover-outage [runs]        (default 5 runs of each event)
import { buildImage } from '../test/fixtures/agent-image';
import { eventually } from '../test/fixtures/cluster';
import { Writer } from '../test/fixtures/writer';
import { ClusterUnderTest } from '../test/e2e/support/cluster-under-test';
import { containerProcesses, deployFast, killContainers } from '../test/e2e/support/faults';
import { removeDeployFiles } from '../test/e2e/support/deploy';
import { RealCluster } from '../test/node/real-cluster';
import { describeOutage, outageReport, writesResumed } from './lib/outage-window';
import { formatSummary, summarize } from './lib/stats';
import { residentMb } from './lib/proc-usage';
import { sleep } from '../agent/src/clock';

const EVENTS = ['switchover', 'delete-pod', 'sigkill-container', 'rolling-update'] as const;
type Event = (typeof EVENTS)[number];

/** Steady state three checks in a row: every member Ready, one primary, the others streaming. */
async function steady(c: ClusterUnderTest): Promise<string> {
  let last: string | undefined;
  for (let streak = 0; streak < 3;) {
    const h = await c.healthy(300_000);
    streak = h === last ? streak + 1 : 1;
    last = h;
    await sleep(500);
  }
  return last!;
}

async function switchover(c: ClusterUnderTest, leader: string): Promise<void> {
  const pods = await c.pods();
  const candidate = pods.find((p) => p.name !== leader)!.name;
  for (let attempt = 1; ; attempt++) {
    // With the REST API's basic auth (the generated Secret's restapi-password), which a switchover needs.
    const res = await c.api(leader, 'POST', '/switchover', { body: { leader, candidate } });
    if (res.status === 200) return;
    // 412: the candidate does not qualify yet (just rejoined); nothing happened, so nothing is measured.
    if (res.status !== 412 || attempt >= 20) throw new Error(`switchover to ${candidate} answered ${res.status}: ${res.text}`);
    await sleep(1000);
  }
}

/** Rolls the StatefulSet (a changed environment variable) and counts the changes of lock holder until it is done. */
async function rollingUpdate(c: ClusterUnderTest, run: number): Promise<number> {
  const holders: string[] = [];
  let done = false;
  const watch = (async () => {
    while (!done) {
      const h = await c.holder().catch(() => undefined);
      if (h && holders.at(-1) !== h) holders.push(h);
      await sleep(100);
    }
  })();
  await c.cluster.kubectl(['set', 'env', `statefulset/${c.d.name}`, '-n', c.namespace, `PGHA_BENCH_ROLLOUT=${run}`]);
  await c.cluster.kubectl(['rollout', 'status', `statefulset/${c.d.name}`, '-n', c.namespace, '--timeout=600s'], { timeoutMs: 620_000 });
  await steady(c);
  done = true;
  await watch;
  return holders.length - 1;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a whole number of at least 1; got ${process.argv[2]}`);
  const image = buildImage();
  const cluster = await RealCluster.start({ nodes: 1, kind: 'bench', images: [image.archive] });
  const admin = cluster.adminClient();
  let writer: Writer | undefined;
  try {
    const ns = 'bench-outage';
    await admin.request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name: ns } } });
    await eventually(
      'the default service account',
      async () => (await admin.request({ method: 'GET', path: `/api/v1/namespaces/${ns}/serviceaccounts/default` }), true),
    );
    const d = await deployFast(cluster, ns);
    const c = new ClusterUnderTest(cluster, admin, d);
    await steady(c);
    writer = new Writer(await c.target(), { table: 'bench_writes' });
    await writer.prepare();
    writer.start();

    // Steady state with a writer running: each member's agent and fence watchdog, six samples over 30 s.
    const memory = { agent: [] as number[], agentPrivate: [] as number[], watchdog: [] as number[], watchdogPrivate: [] as number[] };
    for (let i = 0; i < 6; i++) {
      await sleep(5000);
      for (const pod of await c.pods()) {
        const procs = cluster.podProcesses(pod.uid, cluster.nodeIndex(pod.node!));
        const agent = containerProcesses(c, pod).agent;
        const watchdog = procs.find((p) => p.cmdline.some((a) => a.endsWith('fence-watchdog.sh')))?.pid;
        for (const [list, pid, field] of [
          [memory.agent, agent, 'VmRSS'],
          [memory.agentPrivate, agent, 'RssAnon'],
          [memory.watchdog, watchdog, 'VmRSS'],
          [memory.watchdogPrivate, watchdog, 'RssAnon'],
        ] as const) {
          const v = residentMb(pid, field);
          if (v !== undefined) list.push(v);
        }
      }
    }

    const outage: Record<Event, number[]> = { switchover: [], 'delete-pod': [], 'sigkill-container': [], 'rolling-update': [] };
    const changes: number[] = [];
    for (let run = 0; run < runs; run++) {
      for (const event of EVENTS) {
        const leader = await steady(c);
        const settleFrom = performance.now();
        await sleep(2000);
        if (!writer.ackedAfter(settleFrom)) throw new Error(`${event}: the writer is not committing before the event`);
        const oldIp = (await c.pods()).find((p) => p.name === leader)!.ip!;
        const at = performance.now();
        if (event === 'switchover') await switchover(c, leader);
        else if (event === 'delete-pod') await cluster.kubectl(['delete', 'pod', '-n', ns, leader, '--wait=false']);
        else if (event === 'sigkill-container')
          killContainers(
            c,
            (await c.pods()).find((p) => p.name === leader)!,
          );
        else changes.push(await rollingUpdate(c, run));
        // The outage is read once it is over: another server acknowledged (the primary moved), or, after a SIGKILL
        // the same member may survive, a commit after the first failure. An answer to the request alone proves
        // neither: a switchover's 200 comes once the lock moved, before the new primary takes writes.
        await eventually(
          `${event}: writes resumed after it`,
          async () => (event === 'rolling-update' || writesResumed(writer!, at, oldIp, event === 'sigkill-container') ? true : undefined),
          300_000,
          50,
        );
        await sleep(1000);
        const report = outageReport(writer, at);
        outage[event].push(report.seconds);
        console.log(
          `${event} run ${run + 1}: write outage ${describeOutage(report)} (primary was ${leader})${event === 'rolling-update' ? `, ${changes.at(-1)} change(s) of primary` : ''}`,
        );
      }
    }
    await writer.stop();
    console.log('');
    console.log(formatSummary('planned switchover (POST /switchover), write outage', 's', summarize(outage.switchover)));
    console.log(formatSummary('kubectl delete pod of the primary, write outage', 's', summarize(outage['delete-pod'])));
    console.log(formatSummary("SIGKILL of every process in the primary's container, write outage", 's', summarize(outage['sigkill-container'])));
    console.log(formatSummary('rolling update of the StatefulSet, longest write outage', 's', summarize(outage['rolling-update'])));
    console.log(formatSummary('rolling update, changes of primary', '', summarize(changes), 0));
    console.log(formatSummary('agent resident memory (VmRSS) at steady state', 'MB', summarize(memory.agent), 1));
    console.log(formatSummary('  of which private (RssAnon)', 'MB', summarize(memory.agentPrivate), 1));
    console.log(formatSummary('fence watchdog resident memory (VmRSS)', 'MB', summarize(memory.watchdog), 1));
    console.log(formatSummary('  of which private (RssAnon)', 'MB', summarize(memory.watchdogPrivate), 1));
    console.log(`writer: ${writer.acks.length} commits acknowledged, ${writer.errors} failed attempts`);
  } finally {
    await writer?.stop();
    admin.close();
    await cluster.stop();
    removeDeployFiles();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
