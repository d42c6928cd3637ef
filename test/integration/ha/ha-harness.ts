// Runs HA clusters of real agent processes, each managing its own real PostgreSQL (as the pgha-test user) on its
// own loopback ports, against the test control plane. Everything started is stopped by PID.
import { chown, mkdir, rm } from 'node:fs/promises';
import { existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { livePostmasterPid } from '../../../agent/src/postgres/data-dir';
import { freePort } from '../../control-plane/free-port';
import { killAndWait, PG_BIN_DIR, testRunAs } from '../../fixtures/postgres';
import { AgentProcess, createMemberPods, getPod, holderOf, workDir } from '../agent/harness';
import { eventually } from '../../fixtures/cluster';
import { sleep } from '../../../agent/src/clock';

export const PASSWORD = 'test';

export interface MemberSpec {
  readonly name: string;
  readonly pgPort: number;
  readonly apiPort: number;
  readonly dataDir: string;
  readonly runDir: string;
}

export interface HaClusterOptions {
  readonly admin: KubeClient;
  readonly namespace: string;
  readonly scope: string;
  readonly kubeconfig: string;
  readonly size: number;
  readonly ttl?: number;
  /** Dynamic configuration written at bootstrap (`bootstrap.dcs`). */
  readonly dcs?: Record<string, unknown>;
  readonly primaryStartTimeout?: number;
  /** Per-member kubeconfig (a member cut off through a proxy). */
  readonly kubeconfigFor?: (name: string) => string;
  /** Basic-auth credentials for the REST API's unsafe methods. */
  readonly restapiAuth?: { readonly username: string; readonly password: string };
  /**
   * Members given restapiAuth's password as `restapi.authentication.password_file` (a file the harness writes, as
   * a mounted Secret would be) instead of inline. @default none
   */
  readonly restapiPasswordFile?: (name: string) => boolean;
  /** Extra config keys per member, merged into the member's configuration (sections merge key by key). */
  readonly extraFor?: (name: string) => Record<string, unknown>;
  /**
   * Members whose PostgreSQL outlives a killed agent, as in production (by default tests have the kernel kill it
   * with the agent, so a killed test run leaves nothing behind).
   */
  readonly postgresOutlivesAgent?: (name: string) => boolean;
  /**
   * Members read their superuser and replication passwords from files (`PATRONI_*_PASSWORD_FILE`), as from a mounted
   * Secret; `writePasswordFiles` changes them. @default false (inline passwords)
   */
  readonly passwordFiles?: boolean;
}

/** The two roles whose passwords a member may read from files. */
export type PasswordRole = 'superuser' | 'replication';

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `over` merged into `base`: mappings key by key, anything else replaced. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isMapping(v) && isMapping(out[k]) ? deepMerge(out[k], v) : v;
  return out;
}

/** One member's place: its name (`<scope>-<i>`), a home directory of its own, and two free ports. */
export interface MemberPlace {
  readonly name: string;
  readonly home: string;
  readonly pgPort: number;
  readonly apiPort: number;
}

/**
 * Makes `size` members' homes under `root` (owned by the PostgreSQL test user when there is one) and their Pod
 * objects, as any system under test needs them (pgha here, Patroni in the side-by-side bench).
 */
export async function allocateMembers(o: { admin: KubeClient; namespace: string; scope: string; size: number }, root: string): Promise<MemberPlace[]> {
  const runAs = testRunAs();
  const places: MemberPlace[] = [];
  for (let i = 0; i < o.size; i++) {
    const name = `${o.scope}-${i}`;
    const home = join(root, name);
    await mkdir(home);
    if (runAs) await chown(home, runAs.uid, runAs.gid);
    places.push({ name, home, pgPort: await freePort(), apiPort: await freePort() });
  }
  await createMemberPods(
    o.admin,
    o.namespace,
    o.scope,
    places.map((m) => m.name),
  );
  return places;
}

/** A cluster of agents with PostgreSQL; `stop()` stops every agent and every postmaster it left. */
export class HaCluster {
  readonly agents = new Map<string, AgentProcess>();
  readonly all: AgentProcess[] = [];
  readonly members: MemberSpec[] = [];
  /** The superuser password the harness's own connections use (a rotation test changes it). */
  superuserPassword = PASSWORD;

  private constructor(
    readonly o: HaClusterOptions,
    private readonly root: string,
    private readonly dir: string,
  ) {}

  static async create(o: HaClusterOptions): Promise<HaCluster> {
    const runAs = testRunAs();
    const root = workDir(`ha-${o.scope}`);
    if (runAs) await chown(root, runAs.uid, runAs.gid);
    const c = new HaCluster(o, root, root);
    for (const m of await allocateMembers(o, root)) c.members.push({ ...m, dataDir: join(m.home, 'data'), runDir: join(m.home, 'run') });
    return c;
  }

  member(name: string): MemberSpec {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  /** Starts (or restarts) a member's agent. */
  start(name: string): AgentProcess {
    const m = this.member(name);
    const runAs = testRunAs();
    const o = this.o;
    const agent = AgentProcess.start(
      {
        name,
        scope: o.scope,
        namespace: o.namespace,
        kubeconfig: o.kubeconfigFor?.(name) ?? o.kubeconfig,
        ttl: o.ttl ?? 10,
        loopWait: 1,
        retryTimeout: 2,
        podIp: '127.0.0.1',
        lockOnly: false,
        env: {
          ...(o.postgresOutlivesAgent?.(name) ? {} : { PGHA_TEST_KILL_POSTGRES_WITH_AGENT: '1' }),
          ...(o.passwordFiles ? this.passwordFileEnv(m) : {}),
        },
        extra: deepMerge(
          {
            restapi: {
              listen: `127.0.0.1:${m.apiPort}`,
              connect_address: `127.0.0.1:${m.apiPort}`,
              ...(o.restapiAuth ? { authentication: this.restapiAuthentication(m) } : {}),
            },
            postgresql: {
              listen: `127.0.0.1:${m.pgPort}`,
              connect_address: `127.0.0.1:${m.pgPort}`,
              data_dir: m.dataDir,
              run_dir: m.runDir,
              bin_dir: PG_BIN_DIR,
              ...(runAs ? { run_as: `${runAs.uid}:${runAs.gid}` } : {}),
              // Small, so several members fit on a shared test machine.
              parameters: { shared_buffers: '16MB', max_connections: 30, wal_keep_size: '64MB' },
            },
            primary_start_timeout: o.primaryStartTimeout ?? 30,
            shutdown_timeout: 10,
            bootstrap: { dcs: o.dcs ?? {} },
          },
          o.extraFor?.(name) ?? {},
        ),
      },
      this.dir,
    );
    this.agents.set(name, agent);
    this.all.push(agent);
    return agent;
  }

  /** The member's `restapi.authentication`: restapiAuth inline, or with its password in a file. */
  private restapiAuthentication(m: MemberSpec): Record<string, string> {
    const auth = this.o.restapiAuth!;
    if (!this.o.restapiPasswordFile?.(m.name)) return { ...auth };
    const file = join(dirname(m.dataDir), 'restapi-password');
    writeFileSync(file, `${auth.password}\n`, { mode: 0o600 });
    return { username: auth.username, password_file: file };
  }

  /** Where a member's password for `role` is kept when `passwordFiles` is on (a mounted Secret's key). */
  passwordFile(name: string, role: PasswordRole): string {
    return join(this.credentialsDir(name), `${role}-password`);
  }

  /**
   * Changes a member's password files as the kubelet updates a Secret volume: the keys live in a new directory, and
   * one rename of the `..data` symlink switches every key at once (each key is a symlink through `..data`), so no
   * reader sees one key new and another old. Keys not given keep their text.
   */
  writePasswordFiles(name: string, passwords: Partial<Record<PasswordRole, string>>): void {
    const dir = this.credentialsDir(name);
    mkdirSync(dir, { recursive: true });
    const current = join(dir, '..data');
    const next = { ...this.passwordsIn(current), ...passwords };
    const version = `..${Date.now()}-${this.passwordVersions++}`;
    mkdirSync(join(dir, version));
    for (const [role, password] of Object.entries(next)) writeFileSync(join(dir, version, `${role}-password`), `${password}\n`, { mode: 0o600 });
    symlinkSync(version, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), current);
    for (const role of Object.keys(next))
      if (!existsSync(join(dir, `${role}-password`))) symlinkSync(join('..data', `${role}-password`), join(dir, `${role}-password`));
  }

  private passwordVersions = 0;

  private credentialsDir(name: string): string {
    return join(dirname(this.member(name).dataDir), 'credentials');
  }

  /** The keys behind `..data` now, by role. */
  private passwordsIn(data: string): Partial<Record<PasswordRole, string>> {
    if (!existsSync(data)) return {};
    const roles: PasswordRole[] = ['superuser', 'replication'];
    return Object.fromEntries(roles.map((r) => [r, readFileSync(join(data, `${r}-password`), 'utf8').replace(/\n$/, '')]));
  }

  /** The environment that points a member at its password files (written with PASSWORD first). */
  private passwordFileEnv(m: MemberSpec): NodeJS.ProcessEnv {
    if (!existsSync(this.passwordFile(m.name, 'superuser'))) this.writePasswordFiles(m.name, { superuser: PASSWORD, replication: PASSWORD });
    return {
      PATRONI_SUPERUSER_PASSWORD: undefined,
      PATRONI_REPLICATION_PASSWORD: undefined,
      PATRONI_SUPERUSER_PASSWORD_FILE: this.passwordFile(m.name, 'superuser'),
      PATRONI_REPLICATION_PASSWORD_FILE: this.passwordFile(m.name, 'replication'),
    };
  }

  startAll(): AgentProcess[] {
    return this.members.map((m) => this.start(m.name));
  }

  /** Starts every member of a two-member cluster and waits for a writable primary and its streaming replica. */
  async startPair(timeoutMs = 120_000): Promise<{ primary: string; replica: string }> {
    this.startAll();
    const primary = await this.writablePrimary(timeoutMs);
    const replica = this.members.map((m) => m.name).find((n) => n !== primary)!;
    await this.streaming(replica);
    return { primary, replica };
  }

  agent(name: string): AgentProcess {
    const a = this.agents.get(name);
    if (!a) throw new Error(`no agent ${name}`);
    return a;
  }

  holder(): Promise<string | undefined> {
    return holderOf(this.o.admin, this.o.namespace, this.o.scope, false);
  }

  /** Waits until some member holds the lock and its Postgres accepts writes; returns its name. */
  async writablePrimary(timeoutMs = 60_000, not?: string): Promise<string> {
    return this.withLogs(
      this.members.map((m) => m.name),
      this.waitWritablePrimary(timeoutMs, not),
    );
  }

  private waitWritablePrimary(timeoutMs: number, not: string | undefined): Promise<string> {
    return eventually(
      'a writable primary',
      async () => {
        const h = await this.holder();
        if (!h || h === not) return undefined;
        const ok = await this.tryQuery(h, 'SELECT NOT pg_is_in_recovery() AS w');
        return ok?.[0]?.w === true && (await this.holder()) === h ? h : undefined;
      },
      timeoutMs,
      100,
    );
  }

  /** Waits until `name` streams from the primary (its Pod shows it running as a streaming replica). */
  async streaming(name: string, timeoutMs = 60_000): Promise<void> {
    await this.withLogs(
      [name],
      eventually(
        `${name} streaming`,
        async () => {
          const rows = await this.tryQuery(name, 'SELECT pg_is_in_recovery() AS r, (SELECT status FROM pg_stat_wal_receiver) AS s');
          return rows?.[0]?.r === true && rows[0].s === 'streaming' ? true : undefined;
        },
        timeoutMs,
        200,
      ),
    );
  }

  /** `wait`, and when it fails, the error with the last log lines of the members it was about (logs are removed with the run). */
  private async withLogs<T>(names: readonly string[], wait: Promise<T>): Promise<T> {
    try {
      return await wait;
    } catch (err) {
      const tails = names.map((n) => `--- ${n}'s last log lines:\n${this.agents.get(n)?.tail(40) ?? '(never started)'}`);
      throw new Error(`${(err as Error).message}\n${tails.join('\n')}`, { cause: err });
    }
  }

  async roleLabel(name: string): Promise<string | undefined> {
    return (await getPod(this.o.admin, this.o.namespace, name)).metadata.labels?.role;
  }

  async statusOf(name: string): Promise<Record<string, unknown>> {
    return JSON.parse((await getPod(this.o.admin, this.o.namespace, name)).metadata.annotations?.status ?? '{}') as Record<string, unknown>;
  }

  async connect(name: string): Promise<Client> {
    const c = new Client({
      host: '127.0.0.1',
      port: this.member(name).pgPort,
      user: 'postgres',
      password: this.superuserPassword,
      database: 'postgres',
      connectionTimeoutMillis: 3000,
    });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  }

  async query<T extends Record<string, unknown>>(name: string, sql: string, params: unknown[] = []): Promise<T[]> {
    const c = await this.connect(name);
    try {
      return (await c.query<T>(sql, params)).rows;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  async tryQuery<T extends Record<string, unknown>>(name: string, sql: string, params: unknown[] = []): Promise<T[] | undefined> {
    try {
      return await this.query<T>(name, sql, params);
    } catch {
      return undefined;
    }
  }

  /** An HTTP call to a member's REST API. */
  /** `auth`: the cluster's credentials unless given; `null` sends none. */
  async api(
    name: string,
    method: string,
    path: string,
    body?: unknown,
    auth: { username: string; password: string } | null | undefined = this.o.restapiAuth,
  ): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    const res = await fetch(`http://127.0.0.1:${this.member(name).apiPort}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    return { status: res.status, text: await res.text() };
  }

  /** The postmaster PID on a member's data directory, if one runs. */
  postmasterPid(name: string): Promise<number | undefined> {
    return livePostmasterPid(this.member(name).dataDir);
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((a) => a.stop(15_000)));
    for (const m of this.members) {
      const pid = await livePostmasterPid(m.dataDir);
      if (pid !== undefined) await killAndWait(pid);
    }
    await sleep(100);
    // Set to look at the agents' logs after a failed run.
    if (!process.env.PGHA_KEEP_HA_LOGS) await rm(this.root, { recursive: true, force: true });
  }
}

/** Starts `<scope>-0` first (it bootstraps and leads), then the others, and waits until both stream. */
export async function startLeaderFirst(cluster: HaCluster): Promise<AgentProcess> {
  const scope = cluster.o.scope;
  const leader = cluster.start(`${scope}-0`);
  const primary = await cluster.writablePrimary(120_000);
  if (primary !== `${scope}-0`) throw new Error(`expected ${scope}-0 to lead, got ${primary}`);
  cluster.start(`${scope}-1`);
  cluster.start(`${scope}-2`);
  await cluster.streaming(`${scope}-1`, 90_000);
  await cluster.streaming(`${scope}-2`, 90_000);
  return leader;
}
