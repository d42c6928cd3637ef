// Time from leader loss to a new lock holder, seen by a watch on the lock object: after SIGKILL (the lock must
// expire: ttl after the last change each member saw) and after SIGTERM (the leader releases the lock).
// 3 members with Patroni's default timings. `npm run bench -- agent-failover [runs]` (default 5).
import { eventually } from '../test/fixtures/cluster';
import { holderOf, type LockObject } from '../test/integration/agent/harness';
import { createBenchNamespace, PATRONI_DEFAULTS, startBenchCluster, startMembers, stopAll } from './lib/agent-cluster';
import { sleep } from '../agent/src/clock';
import { formatSummary, summarize } from './lib/stats';

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a whole number of at least 1; got ${process.argv[2]}`);
  const c = await startBenchCluster();
  try {
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      const samples: number[] = [];
      for (let run = 0; run < runs; run++) {
        const ns = await createBenchNamespace(c.admin, `fo${signal.toLowerCase()}`);
        const scope = `f${run}`;
        const agents = await startMembers(c, ns, scope, 3, PATRONI_DEFAULTS);
        const holder = await eventually('a leader', () => holderOf(c.admin, ns.name, scope, false), 60_000);
        await sleep(PATRONI_DEFAULTS.loopWait * 1000 + 2_000);
        let newHolderAt: number | undefined;
        const abort = new AbortController();
        const watching = c.admin
          .watch<LockObject>(
            `/api/v1/namespaces/${ns.name}/configmaps`,
            { fieldSelector: `metadata.name=${scope}-leader` },
            (e) => {
              const h = e.object.metadata?.annotations?.leader;
              if (newHolderAt === undefined && h && h !== holder) newHolderAt = performance.now();
            },
            abort.signal,
          )
          .catch(() => undefined);
        await sleep(500);
        const leader = agents.find((a) => a.name === holder)!;
        const lostAt = performance.now();
        leader.signal(signal);
        await eventually('a new holder', async () => newHolderAt, 120_000, 20);
        const seconds = (newHolderAt! - lostAt) / 1000;
        samples.push(seconds);
        console.log(`${signal}, run ${run + 1}: new holder after ${seconds.toFixed(2)} s`);
        abort.abort();
        await watching;
        await stopAll(agents);
        await ns.delete();
      }
      console.log(formatSummary(`leader loss (${signal}) to new lock holder, ttl ${PATRONI_DEFAULTS.ttl}`, 's', summarize(samples)));
    }
  } finally {
    await c.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
