// How soon the other members stream from a new leader, with real agents and PostgreSQL 15 on a private control
// plane (3 members): after a SIGKILL of the leader (agent and postmaster), from the moment the new leader accepts
// writes until the remaining replica streams from it; after a switchover, from the moment the candidate accepts
// writes until the demoted primary streams from it (and how often the demoted primary was started on the way).
// `npm run bench -- replica-repoint [runs] [ttl,loop_wait,retry_timeout]` (default 5 runs at 10,2,4).
import { createBenchNamespace, startBenchCluster } from './lib/agent-cluster';
import { HaCluster } from '../test/integration/ha/ha-harness';
import { formatSummary, summarize } from './lib/stats';
import { eventually } from '../test/fixtures/cluster';

interface Timing {
  readonly ttl: number;
  readonly loopWait: number;
  readonly retryTimeout: number;
}

function parseTiming(arg: string | undefined): Timing {
  const [ttl, loopWait, retryTimeout] = (arg ?? '10,2,4').split(',').map(Number);
  if (![ttl, loopWait, retryTimeout].every((n) => Number.isInteger(n) && n! > 0)) throw new Error(`timing must be ttl,loop_wait,retry_timeout; got ${arg}`);
  return { ttl: ttl!, loopWait: loopWait!, retryTimeout: retryTimeout! };
}

/** The time (performance.now()) `fn` was first seen true, polling every 25 ms. */
const when = (what: string, fn: () => Promise<boolean>, timeoutMs = 180_000): Promise<number> =>
  eventually(what, async () => ((await fn().catch(() => false)) ? performance.now() : undefined), timeoutMs, 25);

const writable = (c: HaCluster, name: string) => async () => (await c.tryQuery<{ w: boolean }>(name, 'SELECT NOT pg_is_in_recovery() AS w'))?.[0]?.w === true;

/** `name` streams from the member `from` (its walreceiver is connected to that member's port). */
const streamsFrom = (c: HaCluster, name: string, from: string) => async () => {
  const rows = await c.tryQuery<{ s: string; p: number }>(name, 'SELECT status AS s, sender_port AS p FROM pg_stat_wal_receiver');
  return rows?.[0]?.s === 'streaming' && rows[0].p === c.member(from).pgPort;
};

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a whole number of at least 1; got ${process.argv[2]}`);
  const timing = parseTiming(process.argv[3]);
  const bench = await startBenchCluster();
  const killed: number[] = [];
  const switched: number[] = [];
  const starts: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      const ns = await createBenchNamespace(bench.admin, 'repoint');
      const scope = `rp${run}`;
      const c = await HaCluster.create({
        admin: bench.admin,
        namespace: ns.name,
        scope,
        kubeconfig: bench.kubeconfig,
        size: 3,
        ttl: timing.ttl,
        dcs: { loop_wait: timing.loopWait, retry_timeout: timing.retryTimeout },
      });
      try {
        const names = c.members.map((m) => m.name);
        c.start(names[0]!);
        await c.writablePrimary(120_000);
        c.start(names[1]!);
        c.start(names[2]!);
        for (const n of names.slice(1)) await c.streaming(n, 120_000);

        // Switchover to names[1]: the demoted names[0] must stream from it.
        const demoted = c.agent(names[0]!);
        const mark = demoted.lines.length;
        const res = await c.api(names[0]!, 'POST', '/switchover', { leader: names[0], candidate: names[1] });
        if (res.status !== 200) throw new Error(`switchover refused: ${res.status} ${res.text}`);
        const promotedAt = await when('the candidate writable', writable(c, names[1]!));
        const demotedAt = await when('the demoted primary streaming', streamsFrom(c, names[0]!, names[1]!));
        switched.push((demotedAt - promotedAt) / 1000);
        // Its walreceiver can stream before the agent has seen the start through: count once the agent says it streams.
        const settled = (l: { msg: string; why?: unknown }) => l.msg === 'postgres step' && l.why === 'streaming from the leader';
        await when('the demoted agent to see itself streaming', async () => demoted.lines.slice(mark).some(settled));
        starts.push(demoted.lines.slice(mark).filter((l) => l.msg === 'postgres started').length);
        await when('names[2] streaming from the candidate', streamsFrom(c, names[2]!, names[1]!));

        // SIGKILL of the leader (its postmaster dies with it): names[0] or names[2] takes over; the other re-points.
        c.agent(names[1]!).signal('SIGKILL');
        await c.agent(names[1]!).exited;
        const next = await c.writablePrimary(120_000, names[1]);
        const nextAt = performance.now();
        const other = next === names[0] ? names[2]! : names[0]!;
        const streamingAt = await when(`${other} streaming from ${next}`, streamsFrom(c, other, next));
        killed.push((streamingAt - nextAt) / 1000);
        console.log(
          `run ${run + 1}: switchover ${switched.at(-1)!.toFixed(2)} s (demoted primary started ${starts.at(-1)} time(s)), ` +
            `leader killed ${killed.at(-1)!.toFixed(2)} s`,
        );
      } finally {
        await c.stop();
        await ns.delete();
      }
    }
    const t = `ttl ${timing.ttl}, loop_wait ${timing.loopWait}`;
    console.log(formatSummary(`switchover: candidate writable to demoted primary streaming from it (${t})`, 's', summarize(switched)));
    console.log(formatSummary(`leader killed: new leader writable to the other replica streaming from it (${t})`, 's', summarize(killed)));
    console.log(formatSummary('switchover: starts of the demoted primary', 'starts', summarize(starts), 0));
  } finally {
    await bench.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
