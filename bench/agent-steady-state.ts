// API requests per minute that one agent cluster costs the API server in steady state, from the server's own
// apiserver_request_total counter, for 3 and 9 members with Patroni's default timings (ttl 30, loop_wait 10).
// `npm run bench -- agent-steady-state [runs] [windowSeconds]` (defaults 3 and 60).
import { eventually } from '../test/fixtures/cluster';
import { holderOf } from '../test/integration/agent/harness';
import { createBenchNamespace, delta, PATRONI_DEFAULTS, requestCounts, startBenchCluster, startMembers, stopAll } from './lib/agent-cluster';
import { sleep } from '../agent/src/clock';
import { formatSummary, summarize } from './lib/stats';

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 3);
  const windowSeconds = Number(process.argv[3] ?? 60);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a whole number of at least 1; got ${process.argv[2]}`);
  const c = await startBenchCluster();
  try {
    for (const members of [3, 9]) {
      const perMinute: number[] = [];
      for (let run = 0; run < runs; run++) {
        const ns = await createBenchNamespace(c.admin, `steady${members}`);
        const scope = `s${members}r${run}`;
        const agents = await startMembers(c, ns, scope, members, PATRONI_DEFAULTS);
        await eventually('a leader', () => holderOf(c.admin, ns.name, scope, false), 60_000);
        // Let every member publish its status and settle before counting.
        await sleep(2 * PATRONI_DEFAULTS.loopWait * 1000);
        const before = await requestCounts(c.admin);
        await sleep(windowSeconds * 1000);
        const d = delta(await requestCounts(c.admin), before);
        const total = [...d.values()].reduce((a, b) => a + b, 0);
        const rate = (total * 60) / windowSeconds;
        perMinute.push(rate);
        console.log(`${members} members, run ${run + 1}: ${rate.toFixed(1)} requests/min (${[...d].map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'})`);
        await stopAll(agents);
        await ns.delete();
      }
      console.log(formatSummary(`steady state, ${members} members`, 'requests/min per cluster', summarize(perMinute), 1));
    }
  } finally {
    await c.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
