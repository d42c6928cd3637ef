// pgha and Debian's Patroni 3.0.2 side by side on one real kube-apiserver: three members each (real PostgreSQL 15 on
// 127.0.0.1), ConfigMap mode, the same timings, the same writer and triggers. One system runs at a time, in its own
// namespace, and which goes first alternates from run to run. For each system and run:
//   - idle window: API requests per minute by verb and resource from the API server's own apiserver_request_total
//     (it has no namespace label, so only one system runs at a time), each agent's CPU seconds per minute
//     (/proc/<pid>/stat utime+stime) and its VmRSS and RssAnon;
//   - planned switchover with Debian's patronictl, then SIGKILL of the leader's agent and postmaster: the write
//     outage a writer saw through a role-label router (the longest gap between acknowledged commits), the time from
//     writes resuming until every surviving replica streams from the new leader, and acknowledged commits lost.
// Timing sets: Patroni's defaults (ttl 30, loop_wait 10, retry_timeout 10) and fast ones (10, 2, 4).
//   npm run bench -- vs-patroni [runs] [idleSeconds]        (defaults 3 and 60)
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { sleep } from '../agent/src/clock';
import { eventually } from '../test/fixtures/cluster';
import { patronictl } from '../test/fixtures/patronictl';
import { killAndWait, PG_BIN_DIR } from '../test/fixtures/postgres';
import { lostAcks, Writer } from '../test/fixtures/writer';
import { PASSWORD } from '../test/integration/ha/ha-harness';
import { type AgentTiming, type BenchCluster, createBenchNamespace, delta, PATRONI_DEFAULTS, requestCounts, startBenchCluster } from './lib/agent-cluster';
import { Comparison } from './lib/comparison-table';
import { describeOutage, outageReport, writesResumed } from './lib/outage-window';
import { PATRONI_BIN } from './lib/patroni-cluster';
import { PrimaryRouter } from './lib/primary-router';
import { cpuSeconds, residentMb } from './lib/proc-usage';
import { patroniSystem, pghaSystem, type SystemUnderTest, waitHealthy } from './lib/vs-systems';
import { freePort } from '../test/control-plane/free-port';

const TIMINGS: readonly { readonly label: string; readonly timing: AgentTiming }[] = [
  { label: "Patroni's defaults (ttl 30, loop_wait 10, retry_timeout 10)", timing: PATRONI_DEFAULTS },
  { label: 'fast (ttl 10, loop_wait 2, retry_timeout 4)', timing: { ttl: 10, loopWait: 2, retryTimeout: 4 } },
];
const SYSTEMS = [pghaSystem, patroniSystem] as const;
const TABLE = 'bench_writes';

/** A prerequisite is missing or a port is taken: said once, nothing started or left running. */
class Refusal extends Error {}

function checkPrerequisites(): void {
  const missing = [PATRONI_BIN, '/usr/bin/patronictl', `${PG_BIN_DIR}/postgres`, '/usr/bin/setpriv'].filter((p) => !existsSync(p));
  if (missing.length)
    throw new Refusal(`vs-patroni needs ${missing.join(', ')}: install Debian's patroni and postgresql-15 packages (apt-get install patroni postgresql-15)`);
}

async function assertPortsFree(ports: readonly number[]): Promise<void> {
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (!free) throw new Refusal(`port 127.0.0.1:${port} is taken; stop what listens there and run again`);
  }
}

/** Things to undo, last first, on success, failure or SIGINT. */
const cleanups: (() => Promise<void>)[] = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch (err) {
      console.error(`cleanup: ${(err as Error).message}`);
    }
  }
}

function defer(fn: () => Promise<void>): () => Promise<void> {
  cleanups.push(fn);
  return async () => {
    const i = cleanups.lastIndexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
    await fn();
  };
}

const why = (err: unknown) => (err instanceof Error ? err.message.split('\n')[0]! : String(err));

/** The idle window: API requests, CPU and memory of one system with nothing else running. */
async function idleWindow(bench: BenchCluster, sys: SystemUnderTest, timing: AgentTiming, seconds: number, out: Comparison): Promise<void> {
  const leader = await waitHealthy(bench.admin, sys, 180_000);
  // Every member publishes its status and settles before counting.
  await sleep(Math.max(2 * timing.loopWait, 5) * 1000);
  const cpuBefore = new Map(sys.names.map((n) => [n, cpuSeconds(sys.agentPid(n))]));
  const before = await requestCounts(bench.admin);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const d = delta(await requestCounts(bench.admin), before);
  const minutes = (performance.now() - t0) / 60_000;
  const total = [...d.values()].reduce((a, b) => a + b, 0);
  out.add('idle: API all requests per minute', sys.label, total / minutes, 1);
  out.addCounts('idle: API', ' per minute', sys.label, new Map([...d].map(([key, n]) => [key, n / minutes])));
  const cpu = sys.names.map((n) => {
    const b = cpuBefore.get(n);
    const a = cpuSeconds(sys.agentPid(n));
    if (a === undefined || b === undefined) throw new Error(`${n}'s agent is not running at the end of the idle window`);
    return { n, perMinute: (a - b) / minutes };
  });
  out.add('idle: agent CPU s per minute, leader', sys.label, cpu.find((c) => c.n === leader)!.perMinute, 3);
  const replicas = cpu.filter((c) => c.n !== leader);
  out.add('idle: agent CPU s per minute, replica (mean)', sys.label, replicas.reduce((a, c) => a + c.perMinute, 0) / replicas.length, 3);
  for (const field of ['VmRSS', 'RssAnon'] as const) {
    const mb = sys.names.map((n) => residentMb(sys.agentPid(n), field)).filter((v): v is number => v !== undefined);
    out.add(`idle: agent ${field} MiB (mean of members)`, sys.label, mb.reduce((a, b) => a + b, 0) / mb.length, 1);
  }
  console.log(`  idle ${seconds} s: ${(total / minutes).toFixed(1)} API requests/min (${[...d].map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'})`);
}

type EventName = 'switchover' | 'sigkill';
const EVENT_LABEL: Record<EventName, string> = {
  switchover: 'planned switchover (patronictl)',
  sigkill: "SIGKILL of the leader's agent and postmaster",
};

/** One event with the writer running: its outage, how soon the replicas stream again, and commits lost. */
async function event(
  bench: BenchCluster,
  sys: SystemUnderTest,
  timing: AgentTiming,
  writer: Writer,
  name: EventName,
  lostBefore: Set<number>,
  out: Comparison,
): Promise<void> {
  const label = EVENT_LABEL[name];
  const leader = await waitHealthy(bench.admin, sys, 180_000);
  const settleFrom = performance.now();
  await sleep(2000);
  if (!writer.ackedAfter(settleFrom)) throw new Error('the writer is not committing before the event');
  const at = performance.now();
  let killed: string | undefined;
  if (name === 'switchover') {
    const candidate = sys.names.find((n) => n !== leader)!;
    const r = patronictl({ scope: sys.scope, namespace: sys.namespace, kubeconfig: bench.kubeconfig, context: 'c' }, [
      'switchover',
      '--leader',
      leader,
      '--candidate',
      candidate,
      '--force',
    ]);
    if (r.status !== 0) throw new Error(`patronictl switchover exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`);
  } else {
    killed = leader;
    const postmaster = await sys.postmasterPid(leader);
    await Promise.all([sys.killAgent(leader), postmaster === undefined ? Promise.resolve() : killAndWait(postmaster)]);
  }
  // All members listen on 127.0.0.1, so the server address cannot tell them apart: writes resumed once a commit was
  // acknowledged after a failed attempt that followed the event.
  await eventually(`${label}: writes resumed`, async () => (writesResumed(writer, at, '127.0.0.1', true) ? true : undefined), (timing.ttl + 120) * 1000, 25);
  const resumedAt = performance.now();
  const newLeader = await waitHealthy(bench.admin, sys, 180_000, killed ? [killed] : []);
  const streamingAt = performance.now();
  await sleep(1000);
  const report = outageReport(writer, at);
  out.add(`${label}: write outage (s)`, sys.label, report.seconds);
  out.add(`${label}: writes resumed to every replica streaming (s)`, sys.label, (streamingAt - resumedAt) / 1000);
  const lost = (await lostAcks({ host: '127.0.0.1', port: sys.pgPort(newLeader), user: 'postgres', password: PASSWORD }, TABLE, [writer])).filter(
    (id) => !lostBefore.has(id),
  );
  for (const id of lost) lostBefore.add(id);
  out.add(`${label}: acknowledged commits lost`, sys.label, lost.length, 0);
  console.log(`  ${name}: write outage ${describeOutage(report)}; ${leader} → ${newLeader}; ${lost.length} acknowledged commits lost`);
  if (killed) {
    sys.restart(killed);
    await waitHealthy(bench.admin, sys, 180_000);
  }
}

async function runSystem(
  bench: BenchCluster,
  make: (typeof SYSTEMS)[number],
  timing: AgentTiming,
  run: number,
  idleSeconds: number,
  out: Comparison,
): Promise<void> {
  const ns = await createBenchNamespace(bench.admin, 'vs');
  const dropNs = defer(() => ns.delete());
  const sys = await make({ bench, namespace: ns.name, scope: `vs${run}`, timing });
  const stopSys = defer(() => sys.stop());
  let stopRouter: (() => Promise<void>) | undefined;
  let writer: Writer | undefined;
  console.log(`${sys.label}, ttl ${timing.ttl} loop_wait ${timing.loopWait}, run ${run + 1} (namespace ${ns.name})`);
  try {
    const routerPort = await freePort();
    await assertPortsFree([...sys.ports, routerPort]);
    await sys.startAll();
    try {
      await idleWindow(bench, sys, timing, idleSeconds, out);
    } catch (err) {
      out.fail('idle: API all requests per minute', sys.label, `run ${run + 1}: ${why(err)}`, 1);
    }
    const router = await PrimaryRouter.start(
      { admin: bench.admin, namespace: ns.name, roleLabel: 'role', leaderValue: sys.leaderValue, ports: new Map(sys.names.map((n) => [n, sys.pgPort(n)])) },
      routerPort,
    );
    stopRouter = defer(() => router.close());
    router.resume();
    const w = (writer = new Writer({ host: '127.0.0.1', port: routerPort, user: 'postgres', password: PASSWORD }, { table: TABLE, pauseMs: 5 }));
    await eventually('the writer table', async () => (await w.prepare(), true), 60_000, 200);
    w.start();
    const lost = new Set<number>();
    for (const name of ['switchover', 'sigkill'] as const) {
      try {
        await event(bench, sys, timing, w, name, lost, out);
      } catch (err) {
        out.fail(`${EVENT_LABEL[name]}: write outage (s)`, sys.label, `run ${run + 1}: ${why(err)}`);
        console.log(`  ${name}: failed: ${why(err)}`);
      }
    }
  } catch (err) {
    if (err instanceof Refusal) throw err;
    out.fail('idle: API all requests per minute', sys.label, `run ${run + 1}: ${why(err)}`, 1);
    console.log(`  ${sys.label} failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await writer?.stop();
    await stopRouter?.();
    await stopSys();
    await dropNs();
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 3);
  const idleSeconds = Number(process.argv[3] ?? 60);
  if (!Number.isInteger(runs) || runs < 1) throw new Refusal(`runs must be a whole number of at least 1; got ${process.argv[2]}`);
  if (!Number.isFinite(idleSeconds) || idleSeconds < 10) throw new Refusal(`idleSeconds must be at least 10; got ${process.argv[3]}`);
  checkPrerequisites();
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    console.error('interrupted: stopping every process and deleting the namespaces');
    void cleanUp().then(() => process.exit(130));
  });
  const bench = await startBenchCluster();
  defer(() => bench.close());
  const tables: string[] = [];
  for (const [ti, { label, timing }] of TIMINGS.entries()) {
    const out = new Comparison(['pgha', 'Patroni']);
    for (let run = 0; run < runs && !interrupted; run++) {
      const order = (run + ti) % 2 === 0 ? SYSTEMS : ([...SYSTEMS].reverse() as unknown as typeof SYSTEMS);
      for (const make of order) await runSystem(bench, make, timing, run, idleSeconds, out);
    }
    tables.push(`### ${label}, ${runs} run(s), idle window ${idleSeconds} s\n\n${out.markdown()}`);
  }
  await cleanUp();
  console.log(`\n${tables.join('\n\n')}`);
}

main().catch(async (err: unknown) => {
  await cleanUp();
  console.error(err instanceof Error ? err.message : err);
  process.exit(err instanceof Refusal ? 2 : 1);
});
