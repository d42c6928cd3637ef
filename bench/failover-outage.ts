// Write outage as a client sees it through the primary Service, on a 3-member sandbox cluster (real agents and
// PostgreSQL, simulated kubelet and kube-proxy, the real EndpointSlice controller): planned switchover, SIGTERM of
// the primary's agent, SIGKILL of the primary's agent and PostgreSQL together. Also the agents' resident memory at
// steady state. `npm run bench -- failover-outage [runs]` (default 5). Timings: ttl 10, loop_wait 2, retry_timeout 4.
import { readFileSync } from 'node:fs';
import { callMember } from '../agent/src/cli/member-api';
import { ensureBinaries } from '../test/control-plane/binaries';
import { ControlPlane } from '../test/control-plane/control-plane';
import { freePort } from '../test/control-plane/free-port';
import { agentBuild, holderOf, NODE_PATH, workDir } from '../test/integration/agent/harness';
import { SandboxCluster } from '../test/sandbox/cluster';
import { formatSummary, summarize } from './lib/stats';
import { Writer } from './lib/writer';

const TTL = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PodStatus {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  status?: { conditions?: { type: string; status: string }[] };
}

interface PatroniStatus {
  state?: string;
  role?: string;
  timeline?: number;
  replication_state?: string;
}

async function patroniStatus(c: SandboxCluster, name: string): Promise<PatroniStatus | undefined> {
  const m = c.member(name);
  const a = await callMember(`http://${m.host}:${m.apiPort}/patroni`, 'GET', 'patroni', undefined, 2000);
  if (!a.reachable || a.status !== 200) return undefined;
  try {
    return JSON.parse(a.body) as PatroniStatus;
  } catch {
    return undefined;
  }
}

/** One check of steady state; the holder's name when it holds. */
async function steadyOnce(c: SandboxCluster, admin: ReturnType<ControlPlane['adminClient']>, ns: string): Promise<string | undefined> {
  const holder = await holderOf(admin, ns, c.scope, false).catch(() => undefined);
  if (!holder) return undefined;
  const pods = await admin.request<{ items: PodStatus[] }>({ method: 'GET', path: `/api/v1/namespaces/${ns}/pods` }).then((r) => r.body.items, () => []);
  if (pods.length !== c.members.length) return undefined;
  for (const p of pods) {
    const ready = p.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') ?? false;
    if (!ready || p.metadata.labels?.role !== (p.metadata.name === holder ? 'primary' : 'replica')) return undefined;
  }
  // Live answers, not the Pod status (positions there are refreshed only every few seconds).
  const leader = await patroniStatus(c, holder);
  if (leader?.state !== 'running' || leader.role !== 'primary' || leader.timeline === undefined) return undefined;
  for (const m of c.members) {
    if (m.name === holder) continue;
    const r = await patroniStatus(c, m.name);
    if (r?.state !== 'running' || r.replication_state !== 'streaming' || r.timeline !== leader.timeline) return undefined;
  }
  return holder;
}

/**
 * Waits for steady state, so every event starts from a healthy cluster: the lock holder labelled primary and
 * running as one, every other member Ready, labelled replica and streaming on the leader's timeline, three checks in
 * a row half a second apart.
 */
async function healthy(c: SandboxCluster, admin: ReturnType<ControlPlane['adminClient']>, ns: string, timeoutMs = 180_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let streak = 0;
  let last: string | undefined;
  for (;;) {
    const holder = await steadyOnce(c, admin, ns);
    streak = holder && holder === last ? streak + 1 : holder ? 1 : 0;
    last = holder;
    if (holder && streak >= 3) return holder;
    if (Date.now() > deadline) throw new Error(`cluster not in steady state within ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

/**
 * Resident memory of a process in MB, from /proc: `VmRSS` (all resident pages) or `RssAnon` (its private,
 * anonymous pages: heap and stacks; the rest of VmRSS is file-backed, mostly the Node binary's own code, shared with
 * every other process that runs it).
 */
function residentMb(pid: number | undefined, field: 'VmRSS' | 'RssAnon'): number | undefined {
  if (!pid) return undefined;
  try {
    const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a whole number of at least 1; got ${process.argv[2]}`);
  const agentMain = agentBuild();
  const cp = await ControlPlane.start({}, ensureBinaries());
  const admin = cp.adminClient();
  const dir = workDir('bench-outage');
  const ns = 'bench-outage';
  const firstHost = 80;
  const cluster = new SandboxCluster({
    client: admin,
    server: cp.state.server,
    caPem: readFileSync(cp.state.caFile, 'utf8'),
    agentMain,
    nodePath: NODE_PATH,
    workDir: dir,
    namespace: ns,
    scope: 'bench',
    members: 3,
    firstHost,
    pgPort: await freePort(`127.0.0.${firstHost}`),
    apiPort: await freePort(`127.0.0.${firstHost}`),
    primaryAddress: { host: '127.0.0.1', port: await freePort() },
    replicasAddress: { host: '127.0.0.1', port: await freePort() },
    ttl: TTL,
    loopWait: 2,
    retryTimeout: 4,
  });
  let writer: Writer | undefined;
  try {
    await cluster.start();
    await healthy(cluster, admin, ns);
    writer = new Writer({ ...cluster.primary, user: 'postgres', password: cluster.superuser.password });
    for (let i = 0; ; i++) {
      try {
        await writer.prepare();
        break;
      } catch (err) {
        if (i > 100) throw err;
        await sleep(200);
      }
    }
    writer.start();

    // Steady state: the agents idle with a writer running; sample each agent's RSS a few times.
    const rss: number[] = [];
    const anon: number[] = [];
    for (let i = 0; i < 6; i++) {
      await sleep(5000);
      for (const m of cluster.members) {
        const v = residentMb(m.pid, 'VmRSS');
        const a = residentMb(m.pid, 'RssAnon');
        if (v !== undefined) rss.push(v);
        if (a !== undefined) anon.push(a);
      }
    }
    const rssSummary = summarize(rss);
    const anonSummary = summarize(anon);

    const results: Record<string, number[]> = { switchover: [], sigterm: [], sigkill: [] };
    for (let run = 0; run < runs; run++) {
      for (const scenario of ['switchover', 'sigterm', 'sigkill'] as const) {
        const leader = await healthy(cluster, admin, ns);
        // A couple of seconds of steady writes before the event, so the gap is measured from normal operation.
        const settleFrom = performance.now();
        await sleep(2000);
        if (!writer.ackedAfter(settleFrom)) throw new Error('the writer is not committing before the event');
        let eventAt = performance.now();
        if (scenario === 'switchover') {
          const candidate = cluster.members.find((m) => m.name !== leader)!;
          const api = cluster.member(leader);
          for (let attempt = 1; ; attempt++) {
            eventAt = performance.now();
            const answer = await callMember(`http://${api.host}:${api.apiPort}/patroni`, 'POST', 'switchover', { leader, candidate: candidate.name }, 60_000);
            if (answer.status === 200) break;
            // 412: the candidate does not qualify yet (e.g. just rejoined); nothing happened, so nothing is measured.
            if (answer.status !== 412 || attempt >= 20) throw new Error(`switchover to ${candidate.name} answered ${answer.status}: ${answer.body}`);
            console.log(`  switchover to ${candidate.name} refused (${answer.body.trim()}); trying again in 1 s`);
            await sleep(1000);
          }
        } else {
          cluster.kill(leader, scenario === 'sigterm' ? 'SIGTERM' : 'SIGKILL', scenario === 'sigkill');
        }
        // Wait for writes to flow again, then a little longer so the gap is closed by a later commit.
        const deadline = performance.now() + 120_000;
        while (!writer.ackedAfter(eventAt + 500) || performance.now() < eventAt + 1000) {
          if (performance.now() > deadline) throw new Error(`${scenario}: no write acknowledged within 120 s`);
          await sleep(50);
        }
        const seconds = writer.outageAfter(eventAt - 1000) / 1000;
        results[scenario]!.push(seconds);
        console.log(`${scenario} run ${run + 1}: write outage ${seconds.toFixed(2)} s (from ${leader})`);
        if (scenario !== 'switchover') {
          // The kubelet would restart the container: start the member again and let it rejoin as a replica.
          await cluster.exited(leader, 60_000);
          cluster.startMember(leader);
        }
      }
    }
    await writer.stop();
    console.log('');
    console.log(formatSummary('planned switchover, write outage (target < 1.5 s)', 's', summarize(results.switchover!)));
    console.log(formatSummary('SIGTERM of the primary, write outage (target < 2 s)', 's', summarize(results.sigterm!)));
    console.log(formatSummary(`SIGKILL of the primary agent and PostgreSQL, write outage (target <= ttl + 1 = ${TTL + 1} s)`, 's', summarize(results.sigkill!)));
    console.log(formatSummary('agent resident memory (VmRSS) at steady state (target < 50 MB)', 'MB', rssSummary, 1));
    console.log(formatSummary('  of which private (RssAnon; the rest is the shared Node binary)', 'MB', anonSummary, 1));
    console.log(`writer: ${writer.acks.length} commits acknowledged, ${writer.errors} failed attempts`);
  } finally {
    await writer?.stop();
    await cluster.stop().catch((err: unknown) => console.error(err instanceof Error ? err.message : err));
    admin.close();
    await cp.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
