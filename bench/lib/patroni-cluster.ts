// Runs Debian's Patroni 3.0.2 (/usr/bin/patroni) members, each with its own real PostgreSQL 15 on its own loopback
// ports, against the bench control plane in Kubernetes (ConfigMap) mode, the way the HA harness runs pgha agents:
// same superuser and replication credentials, same small PostgreSQL settings, a Pod per member for Patroni to patch.
// Patroni reads the API server from a kubeconfig of its own (static admin token). Everything is stopped by PID.
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, copyFileSync, createWriteStream, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { KubeClient } from '../../agent/src/kube/kube-client';
import { livePostmasterPid } from '../../agent/src/postgres/data-dir';
import { sleep } from '../../agent/src/clock';
import { killAndWait, PG_BIN_DIR, testRunAs } from '../../test/fixtures/postgres';
import { workDir, writeKubeconfig } from '../../test/integration/agent/harness';
import { allocateMembers, PASSWORD } from '../../test/integration/ha/ha-harness';
import type { AgentTiming } from './agent-cluster';

export const PATRONI_BIN = '/usr/bin/patroni';

export interface PatroniMember {
  readonly name: string;
  readonly pgPort: number;
  readonly apiPort: number;
  readonly home: string;
  readonly dataDir: string;
}

export interface PatroniClusterOptions {
  readonly admin: KubeClient;
  readonly namespace: string;
  readonly scope: string;
  /** The API server's URL, CA file and a token for Patroni's kubeconfig. */
  readonly server: string;
  readonly caFile: string;
  readonly token: string;
  readonly size: number;
  readonly timing: AgentTiming;
}

export class PatroniCluster {
  readonly members: PatroniMember[] = [];
  private readonly procs = new Map<string, ChildProcess>();
  private readonly all: ChildProcess[] = [];
  private kubeconfig = '';

  private constructor(
    readonly o: PatroniClusterOptions,
    private readonly root: string,
  ) {}

  static async create(o: PatroniClusterOptions): Promise<PatroniCluster> {
    const runAs = testRunAs();
    const root = workDir(`patroni-${o.scope}`);
    const c = new PatroniCluster(o, root);
    // Patroni runs as the PostgreSQL user (PostgreSQL refuses root), so it needs its own readable copies.
    const ca = join(root, 'ca.crt');
    copyFileSync(o.caFile, ca);
    c.kubeconfig = writeKubeconfig(root, 'patroni', o.server, ca, o.token);
    if (runAs) for (const p of [root, ca, c.kubeconfig]) chownSync(p, runAs.uid, runAs.gid);
    for (const m of await allocateMembers(o, root)) c.members.push({ ...m, dataDir: join(m.home, 'data') });
    return c;
  }

  member(name: string): PatroniMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no patroni member ${name}`);
    return m;
  }

  /** Patroni's configuration for a member: the same PostgreSQL settings and credentials as the HA harness gives pgha. */
  private config(m: PatroniMember): Record<string, unknown> {
    const o = this.o;
    const auth = { username: 'postgres', password: PASSWORD };
    return {
      scope: o.scope,
      name: m.name,
      log: { level: 'INFO' },
      restapi: { listen: `127.0.0.1:${m.apiPort}`, connect_address: `127.0.0.1:${m.apiPort}` },
      kubernetes: {
        namespace: o.namespace,
        context: 'c',
        labels: {},
        scope_label: 'cluster-name',
        role_label: 'role',
        use_endpoints: false,
        pod_ip: '127.0.0.1',
      },
      bootstrap: {
        dcs: {
          ttl: o.timing.ttl,
          loop_wait: o.timing.loopWait,
          retry_timeout: o.timing.retryTimeout,
          postgresql: { use_pg_rewind: true, use_slots: true, parameters: { wal_log_hints: 'on' } },
        },
        initdb: [{ encoding: 'UTF8' }],
      },
      postgresql: {
        listen: `127.0.0.1:${m.pgPort}`,
        connect_address: `127.0.0.1:${m.pgPort}`,
        data_dir: m.dataDir,
        bin_dir: PG_BIN_DIR,
        pgpass: join(m.home, 'pgpass'),
        authentication: { superuser: auth, replication: { username: 'replicator', password: PASSWORD }, rewind: auth },
        pg_hba: ['local all all trust', 'host all all 127.0.0.1/32 md5', 'host replication replicator 127.0.0.1/32 md5'],
        // The same small settings the HA harness gives pgha's members.
        parameters: { shared_buffers: '16MB', max_connections: 30, wal_keep_size: '64MB', unix_socket_directories: m.home },
      },
    };
  }

  /** Starts (or restarts) a member's Patroni. */
  start(name: string): ChildProcess {
    const m = this.member(name);
    const runAs = testRunAs();
    const file = join(m.home, 'patroni.yml');
    writeFileSync(file, toYaml(this.config(m)), { mode: 0o600 });
    if (runAs) chownSync(file, runAs.uid, runAs.gid);
    const ids = runAs ? [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups'] : [];
    const child = spawn('setpriv', [...ids, '--pdeathsig', 'KILL', '--', PATRONI_BIN, file], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: m.home, KUBECONFIG: this.kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(join(m.home, 'patroni.log'), { flags: 'a' });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.procs.set(name, child);
    this.all.push(child);
    return child;
  }

  /** The PID of the member's Patroni (setpriv execs it, so it is the child's own PID). */
  agentPid(name: string): number | undefined {
    const p = this.procs.get(name);
    return p && p.exitCode === null && p.signalCode === null ? p.pid : undefined;
  }

  /** SIGKILLs the member's Patroni and waits until it is gone. */
  async killAgent(name: string): Promise<void> {
    const p = this.procs.get(name);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGKILL');
    await exited;
  }

  postmasterPid(name: string): Promise<number | undefined> {
    return livePostmasterPid(this.member(name).dataDir);
  }

  /** The last lines of a member's Patroni log, for a failed wait. */
  logTail(name: string, n = 30): string {
    const f = join(this.member(name).home, 'patroni.log');
    if (!existsSync(f)) return '(no log)';
    return readFileSync(f, 'utf8').split('\n').slice(-n).join('\n');
  }

  /** SIGTERM every Patroni (it stops its PostgreSQL), SIGKILL after 15 s, then kill any postmaster left. */
  async stop(): Promise<void> {
    await Promise.all(
      this.all.map(async (p) => {
        if (p.exitCode !== null || p.signalCode !== null) return;
        const exited = new Promise<void>((r) => p.once('exit', () => r()));
        p.kill('SIGTERM');
        if ((await Promise.race([exited.then(() => 'done'), sleep(15_000).then(() => 'timeout')])) === 'timeout') {
          p.kill('SIGKILL');
          await exited;
        }
      }),
    );
    for (const m of this.members) {
      const pid = await livePostmasterPid(m.dataDir);
      if (pid !== undefined) await killAndWait(pid);
    }
    if (!process.env.PGHA_KEEP_HA_LOGS) rmSync(this.root, { recursive: true, force: true });
  }
}
