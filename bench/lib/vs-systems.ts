// The two systems the vs-patroni benchmark compares, behind one small interface: three pgha agents (the HA harness)
// or three Patroni 3.0.2 members (patroni-cluster.ts), each managing a real PostgreSQL 15 on 127.0.0.1, and the
// checks both are judged by, read from PostgreSQL itself and from the lock ConfigMap (the same object for both).
import { Client } from 'pg';
import { eventually } from '../../test/fixtures/cluster';
import { holderOf } from '../../test/integration/agent/harness';
import { HaCluster, PASSWORD, startLeaderFirst } from '../../test/integration/ha/ha-harness';
import type { KubeClient } from '../../agent/src/kube/kube-client';
import type { AgentTiming, BenchCluster } from './agent-cluster';
import { PatroniCluster } from './patroni-cluster';

export type SystemName = 'pgha' | 'Patroni';

export interface SystemUnderTest {
  readonly label: SystemName;
  readonly namespace: string;
  readonly scope: string;
  /** Role label value of the primary's Pod. */
  readonly leaderValue: string;
  readonly names: readonly string[];
  /** Every port the system listens on (PostgreSQL and REST API). */
  readonly ports: readonly number[];
  pgPort(name: string): number;
  agentPid(name: string): number | undefined;
  postmasterPid(name: string): Promise<number | undefined>;
  /** Starts member 0 first (it bootstraps), then the others; resolves once both stream. */
  startAll(): Promise<void>;
  /** Starts a member's agent again (after a SIGKILL). */
  restart(name: string): void;
  killAgent(name: string): Promise<void>;
  logTail(name: string): string;
  stop(): Promise<void>;
}

export interface SystemOptions {
  readonly bench: BenchCluster;
  readonly namespace: string;
  readonly scope: string;
  readonly timing: AgentTiming;
}

/** What both systems' members share: names and loopback ports. */
function membersOf(o: SystemOptions, members: readonly { name: string; pgPort: number; apiPort: number }[]) {
  return {
    namespace: o.namespace,
    scope: o.scope,
    names: members.map((m) => m.name),
    ports: members.flatMap((m) => [m.pgPort, m.apiPort]),
    pgPort: (n: string) => members.find((m) => m.name === n)!.pgPort,
  };
}

export async function pghaSystem(o: SystemOptions): Promise<SystemUnderTest> {
  const t = o.timing;
  const c = await HaCluster.create({
    admin: o.bench.admin,
    namespace: o.namespace,
    scope: o.scope,
    kubeconfig: o.bench.kubeconfig,
    size: 3,
    ttl: t.ttl,
    dcs: { ttl: t.ttl, loop_wait: t.loopWait, retry_timeout: t.retryTimeout },
    // The harness's own loop_wait/retry_timeout are for fast tests; these keys override them.
    extraFor: () => ({ loop_wait: t.loopWait, retry_timeout: t.retryTimeout }),
  });
  return {
    label: 'pgha',
    leaderValue: 'primary',
    ...membersOf(o, c.members),
    agentPid: (n) => (c.agents.get(n)?.running ? c.agents.get(n)!.pid : undefined),
    postmasterPid: (n) => c.postmasterPid(n),
    startAll: async () => {
      await startLeaderFirst(c);
    },
    restart: (n) => void c.start(n),
    killAgent: async (n) => {
      const a = c.agent(n);
      a.signal('SIGKILL');
      await a.exited;
    },
    logTail: (n) => c.agents.get(n)?.tail(30) ?? '(never started)',
    stop: () => c.stop(),
  };
}

export async function patroniSystem(o: SystemOptions): Promise<SystemUnderTest> {
  const c = await PatroniCluster.create({
    admin: o.bench.admin,
    namespace: o.namespace,
    scope: o.scope,
    server: o.bench.cp.state.server,
    caFile: o.bench.cp.state.caFile,
    token: o.bench.cp.state.adminToken,
    size: 3,
    timing: o.timing,
  });
  const sys: SystemUnderTest = {
    label: 'Patroni',
    leaderValue: 'master',
    ...membersOf(o, c.members),
    agentPid: (n) => c.agentPid(n),
    postmasterPid: (n) => c.postmasterPid(n),
    startAll: async () => {
      const [first, ...rest] = sys.names;
      c.start(first!);
      try {
        await eventually(`${first} leading`, async () => ((await leaderWritable(o.bench.admin, sys)) === first ? true : undefined), 120_000, 200);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- ${first}'s last log lines:\n${c.logTail(first!)}`, { cause: err });
      }
      for (const n of rest) c.start(n);
    },
    restart: (n) => void c.start(n),
    killAgent: (n) => c.killAgent(n),
    logTail: (n) => c.logTail(n),
    stop: () => c.stop(),
  };
  return sys;
}

/** One query on a fresh superuser connection to a member; undefined when it fails. */
export async function tryQuery<T extends Record<string, unknown>>(port: number, sql: string): Promise<T[] | undefined> {
  const c = new Client({ host: '127.0.0.1', port, user: 'postgres', password: PASSWORD, database: 'postgres', connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return (await c.query<T>(sql)).rows;
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The lock holder, if its PostgreSQL accepts writes. */
export async function leaderWritable(admin: KubeClient, sys: SystemUnderTest): Promise<string | undefined> {
  const h = await holderOf(admin, sys.namespace, sys.scope, false);
  if (!h || !sys.names.includes(h)) return undefined;
  const rows = await tryQuery<{ w: boolean }>(sys.pgPort(h), 'SELECT NOT pg_is_in_recovery() AS w');
  return rows?.[0]?.w === true ? h : undefined;
}

/** Whether `name`'s walreceiver streams from `leader`'s port. */
export async function streamsFrom(sys: SystemUnderTest, name: string, leader: string): Promise<boolean> {
  const rows = await tryQuery<{ s: string; p: number }>(sys.pgPort(name), 'SELECT status AS s, sender_port AS p FROM pg_stat_wal_receiver');
  return rows?.[0]?.s === 'streaming' && rows[0].p === sys.pgPort(leader);
}

/** The writable lock holder once every other member (but `except`) streams from it. */
export async function healthyLeader(admin: KubeClient, sys: SystemUnderTest, except: readonly string[] = []): Promise<string | undefined> {
  const h = await leaderWritable(admin, sys);
  if (!h) return undefined;
  for (const n of sys.names) if (n !== h && !except.includes(n) && !(await streamsFrom(sys, n, h))) return undefined;
  return h;
}

/** Waits for healthyLeader; on timeout the error carries every member's last log lines. */
export async function waitHealthy(admin: KubeClient, sys: SystemUnderTest, timeoutMs: number, except: readonly string[] = []): Promise<string> {
  try {
    return await eventually(`${sys.label}: a writable leader with every replica streaming from it`, () => healthyLeader(admin, sys, except), timeoutMs, 100);
  } catch (err) {
    const tails = sys.names.map((n) => `--- ${n}:\n${sys.logTail(n)}`).join('\n');
    throw new Error(`${(err as Error).message}\n${tails}`, { cause: err });
  }
}
