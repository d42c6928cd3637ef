/**
 * A multi-member pgha cluster on one machine, against a real control plane: each member is a real agent process
 * with its own PostgreSQL and REST API on its own loopback address, set up as a StatefulSet Pod would be (pod name,
 * namespace, pod IP in the environment; a service-account token with exactly the agent's RBAC rules). The sandbox
 * plays the kubelet (SimulatedPod: Running, Ready from `/readiness`) and kube-proxy (ServiceForwarder: one stable
 * loopback address per Service). Used by `npm run sandbox -- cluster`, the integration tests and the benchmarks.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { KubeClient } from '../../agent/src/kube/kube-client';
import { KubeApiError } from '../../agent/src/kube/kube-error';
import { agentRoleRules } from '../../agent/src/kube/rbac-rules';
import { ServiceForwarder } from './forwarder';
import { ensureSandboxNode, SimulatedPod } from './pod-sim';

export interface SandboxClusterProps {
  /** An admin client of the control plane (creates the namespace, RBAC, Services and Pods). */
  readonly client: KubeClient;
  /** The API server URL and CA the agents use, as a Pod's service account would. */
  readonly server: string;
  readonly caPem: string;
  /** The compiled agent entry (`build/agent/src/main.js`). */
  readonly agentMain: string;
  /** node_modules for the agent processes. */
  readonly nodePath: string;
  /** Member directories, configs and logs go here. */
  readonly workDir: string;
  readonly namespace: string;
  /** @default 'demo' */
  readonly scope?: string;
  /** @default 3 */
  readonly members?: number;
  /** Member i listens on 127.0.0.(firstHost + i). @default 10 */
  readonly firstHost?: number;
  /** @default 5432 */
  readonly pgPort?: number;
  /** @default 8008 */
  readonly apiPort?: number;
  /** Where the primary and replicas Services are reachable. @default 127.0.0.2:5432 and 127.0.0.3:5432 */
  readonly primaryAddress?: { readonly host: string; readonly port: number };
  readonly replicasAddress?: { readonly host: string; readonly port: number };
  /** Patroni 3.x clusters (and its patronictl) use `master`. @default 'primary' */
  readonly leaderLabelValue?: string;
  /** @default 10 */
  readonly ttl?: number;
  /** @default 2 */
  readonly loopWait?: number;
  /** @default 4 */
  readonly retryTimeout?: number;
  /** REST API basic-auth credentials for unsafe methods. @default none */
  readonly restApiAuth?: { readonly username: string; readonly password: string };
  /** Unix user the agents (and so PostgreSQL) run as when we are root: PostgreSQL refuses root. @default 'pgha-test' */
  readonly runAsUser?: string;
}

export interface SandboxMember {
  readonly name: string;
  readonly host: string;
  readonly podIp: string;
  readonly pgPort: number;
  readonly apiPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  pid?: number;
}

/** What `cluster status` and `down` need after the process that started the cluster is gone. */
export interface SandboxClusterState {
  readonly namespace: string;
  readonly scope: string;
  readonly members: readonly SandboxMember[];
  readonly primary: string;
  readonly replicas: string;
  readonly credentialsFile: string;
}

const SANDBOX_POD_NET = '198.51.100.';

function uidGid(user: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, user], { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
  return { uid: id('-u'), gid: id('-g') };
}

function ensureUser(user: string): { uid: number; gid: number } {
  try {
    return uidGid(user);
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user], { stdio: 'ignore' });
    return uidGid(user);
  }
}

/** The PID in a data directory's postmaster.pid, if the file is there. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a PostgreSQL process (so a recycled PID is never signalled). */
export function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!.endsWith('postgres');
  } catch {
    return false;
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Deletes every Pod in `namespace` at once. Sandbox Pods are bound to a Node no kubelet runs, so a graceful deletion
 * (the namespace controller's) would wait forever for a kubelet to confirm it, and the namespace with it.
 */
export async function forceDeletePods(client: KubeClient, namespace: string): Promise<void> {
  let pods: { metadata: { name: string } }[];
  try {
    pods = (await client.request<{ items: { metadata: { name: string } }[] }>({ method: 'GET', path: `/api/v1/namespaces/${namespace}/pods` })).body.items;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return;
    throw err;
  }
  for (const p of pods) {
    try {
      await client.request({ method: 'DELETE', path: `/api/v1/namespaces/${namespace}/pods/${p.metadata.name}`, query: { gracePeriodSeconds: 0 } });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
  }
}

export class SandboxCluster {
  readonly scope: string;
  readonly members: SandboxMember[] = [];
  private readonly children = new Map<string, ChildProcess>();
  private readonly pods: SimulatedPod[] = [];
  private readonly forwarders: ServiceForwarder[] = [];
  private readonly owner: { uid: number; gid: number } | undefined;
  readonly credentialsFile: string;
  private readonly superuserPassword = randomBytes(12).toString('hex');
  private readonly replicationPassword = randomBytes(12).toString('hex');
  private token = '';

  constructor(private readonly props: SandboxClusterProps) {
    this.scope = props.scope ?? 'demo';
    this.credentialsFile = join(props.workDir, 'credentials.env');
    this.owner = process.getuid?.() === 0 ? ensureUser(props.runAsUser ?? 'pgha-test') : undefined;
    const first = props.firstHost ?? 10;
    for (let i = 0; i < (props.members ?? 3); i++) {
      const name = `${this.scope}-${i}`;
      const dir = join(props.workDir, name);
      this.members.push({
        name,
        host: `127.0.0.${first + i}`,
        podIp: `${SANDBOX_POD_NET}${first + i}`,
        pgPort: props.pgPort ?? 5432,
        apiPort: props.apiPort ?? 8008,
        dataDir: join(dir, 'data'),
        logFile: join(props.workDir, `${name}.log`),
      });
    }
  }

  get primary(): { host: string; port: number } {
    return this.props.primaryAddress ?? { host: '127.0.0.2', port: 5432 };
  }

  get replicas(): { host: string; port: number } {
    return this.props.replicasAddress ?? { host: '127.0.0.3', port: 5432 };
  }

  get superuser(): { username: string; password: string } {
    return { username: 'postgres', password: this.superuserPassword };
  }

  state(): SandboxClusterState {
    return {
      namespace: this.props.namespace,
      scope: this.scope,
      members: this.members,
      primary: `${this.primary.host}:${this.primary.port}`,
      replicas: `${this.replicas.host}:${this.replicas.port}`,
      credentialsFile: this.credentialsFile,
    };
  }

  private api(path: string): string {
    return `/api/v1/namespaces/${this.props.namespace}/${path}`;
  }

  private async create(path: string, body: Record<string, unknown>): Promise<void> {
    try {
      await this.props.client.request({ method: 'POST', path, body });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    }
  }

  /** Namespace, Node, RBAC and a bound token, Services, then Pods, agents and forwarders. */
  async start(): Promise<void> {
    const { client, namespace } = this.props;
    mkdirSync(this.props.workDir, { recursive: true });
    // The agents' user must reach its member directory (a mkdtemp directory is 0700).
    if (this.owner) chmodSync(this.props.workDir, 0o755);
    writeFileSync(this.credentialsFile, `PGUSER=postgres\nPGPASSWORD=${this.superuserPassword}\n`, { mode: 0o600 });
    await this.ensureNamespace();
    await ensureSandboxNode(client);
    await this.grantAgentRbac();
    const scopeLabels = { 'cluster-name': this.scope };
    const port = { name: 'postgresql', port: 5432, targetPort: 'postgresql' };
    await this.create(this.api('services'), { apiVersion: 'v1', kind: 'Service', metadata: { name: `${this.scope}-primary`, labels: scopeLabels }, spec: { selector: { ...scopeLabels, role: this.props.leaderLabelValue ?? 'primary' }, ports: [port] } });
    await this.create(this.api('services'), { apiVersion: 'v1', kind: 'Service', metadata: { name: `${this.scope}-replicas`, labels: scopeLabels }, spec: { selector: { ...scopeLabels, role: 'replica' }, ports: [port] } });
    for (const m of this.members) {
      const pod = new SimulatedPod({
        client,
        namespace,
        name: m.name,
        labels: scopeLabels,
        podIp: m.podIp,
        containerPorts: [{ name: 'postgresql', containerPort: m.pgPort }, { name: 'patroni', containerPort: m.apiPort }],
        readinessUrl: `http://${m.host}:${m.apiPort}/readiness`,
        probePeriodMs: 500,
      });
      await pod.create();
      pod.start();
      this.pods.push(pod);
    }
    for (const m of this.members) this.startMember(m.name);
    const resolve = (ip: string) => (ip.startsWith(SANDBOX_POD_NET) ? `127.0.0.${ip.slice(SANDBOX_POD_NET.length)}` : undefined);
    for (const [service, addr] of [[`${this.scope}-primary`, this.primary], [`${this.scope}-replicas`, this.replicas]] as const) {
      const fwd = new ServiceForwarder({ client, namespace, service, portName: 'postgresql', listenHost: addr.host, listenPort: addr.port, resolve });
      await fwd.start();
      this.forwarders.push(fwd);
    }
  }

  /** Creates the namespace; one still terminating from an earlier `down` is waited out first. */
  private async ensureNamespace(): Promise<void> {
    const path = `/api/v1/namespaces/${this.props.namespace}`;
    for (let i = 0; i < 240; i++) {
      try {
        const ns = await this.props.client.request<{ status?: { phase?: string } }>({ method: 'GET', path });
        if (ns.body.status?.phase !== 'Terminating') return;
        await forceDeletePods(this.props.client, this.props.namespace);
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 404)) throw err;
        await this.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: this.props.namespace } });
        return;
      }
      await sleep(250);
    }
    throw new Error(`namespace ${this.props.namespace} is still terminating after 60 s`);
  }

  /** A ServiceAccount bound to exactly the agent's Role, and a token for it (what a Pod's kubelet would mount). */
  private async grantAgentRbac(): Promise<void> {
    const { client } = this.props;
    const name = `${this.scope}-agent`;
    await this.create(this.api('serviceaccounts'), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
    await this.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${this.props.namespace}/roles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules: agentRoleRules({ useEndpoints: false }) });
    await this.create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${this.props.namespace}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: this.props.namespace }],
    });
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await client.request<{ status: { token: string } }>({ method: 'POST', path: this.api(`serviceaccounts/${name}/token`), body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 86_400 } } });
        this.token = res.body.status.token;
        return;
      } catch (err) {
        // The service account may not be visible to the token endpoint for a moment after its creation.
        if (attempt >= 20) throw err;
        await sleep(250);
      }
    }
  }

  private writeMemberFiles(m: SandboxMember): { config: string; env: NodeJS.ProcessEnv } {
    const dir = join(this.props.workDir, m.name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'sandbox', cluster: { server: this.props.server, 'certificate-authority-data': Buffer.from(this.props.caPem).toString('base64') } }],
        users: [{ name: 'agent', user: { token: this.token } }],
        contexts: [{ name: 'sandbox', context: { cluster: 'sandbox', user: 'agent', namespace: this.props.namespace } }],
        'current-context': 'sandbox',
      }),
      { mode: 0o600 },
    );
    const ttl = this.props.ttl ?? 10;
    const loopWait = this.props.loopWait ?? 2;
    const retryTimeout = this.props.retryTimeout ?? 4;
    const config = join(dir, 'pgha.yaml');
    writeFileSync(
      config,
      toYaml({
        scope: this.scope,
        ttl,
        loop_wait: loopWait,
        retry_timeout: retryTimeout,
        kubernetes: { kubeconfig, leader_label_value: this.props.leaderLabelValue ?? 'primary' },
        restapi: { listen: `${m.host}:${m.apiPort}`, connect_address: `${m.host}:${m.apiPort}` },
        postgresql: { listen: `${m.host}:${m.pgPort}`, connect_address: `${m.host}:${m.pgPort}`, data_dir: m.dataDir },
        bootstrap: { dcs: { ttl, loop_wait: loopWait, retry_timeout: retryTimeout, maximum_lag_on_failover: 1048576, postgresql: { use_pg_rewind: true } } },
      }),
      { mode: 0o600 },
    );
    if (this.owner) execFileSync('chown', ['-R', `${this.owner.uid}:${this.owner.gid}`, dir]);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_PATH: this.props.nodePath,
      HOME: dir,
      // What the StatefulSet gives each Pod.
      PATRONI_NAME: m.name,
      PATRONI_KUBERNETES_NAMESPACE: this.props.namespace,
      PATRONI_KUBERNETES_POD_IP: m.podIp,
      PATRONI_SUPERUSER_PASSWORD: this.superuserPassword,
      PATRONI_REPLICATION_PASSWORD: this.replicationPassword,
      ...(this.props.restApiAuth ? { PATRONI_RESTAPI_USERNAME: this.props.restApiAuth.username, PATRONI_RESTAPI_PASSWORD: this.props.restApiAuth.password } : {}),
    };
    return { config, env };
  }

  /** Starts (or restarts) one member's agent; its output goes to the member's log file. */
  startMember(name: string): void {
    const m = this.member(name);
    const { config, env } = this.writeMemberFiles(m);
    const fd = openSync(m.logFile, 'a');
    if (this.owner) chownSync(m.logFile, this.owner.uid, this.owner.gid);
    const prefix = this.owner ? ['setpriv', '--reuid', String(this.owner.uid), '--regid', String(this.owner.gid), '--clear-groups', '--'] : [];
    const argv = [...prefix, process.execPath, this.props.agentMain, 'agent', '--config', config];
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', fd, fd], cwd: join(this.props.workDir, m.name) });
    closeSync(fd);
    m.pid = child.pid;
    this.children.set(name, child);
  }

  member(name: string): SandboxMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no member ${name} in sandbox cluster ${this.scope}`);
    return m;
  }

  /** Sends `signal` to a member's agent; with `withPostgres`, also to its postmaster (a whole-Pod crash). */
  kill(name: string, signal: NodeJS.Signals, withPostgres = false): void {
    const m = this.member(name);
    const pg = withPostgres ? postmasterPid(m.dataDir) : undefined;
    if (isAlive(m.pid)) process.kill(m.pid!, signal);
    if (pg && isAlive(pg) && isPostgres(pg)) process.kill(pg, signal);
  }

  /** Whether a member's agent was started and has exited since. */
  hasExited(name: string): boolean {
    const child = this.children.get(name);
    return child !== undefined && (child.exitCode !== null || child.signalCode !== null);
  }

  /** Waits for a member's agent to exit. */
  async exited(name: string, timeoutMs = 60_000): Promise<boolean> {
    const child = this.children.get(name);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!child || child.exitCode !== null || child.signalCode !== null) return true;
      await sleep(50);
    }
    return false;
  }

  /** Stops forwarders and probes, then every agent (SIGTERM, SIGKILL after the grace time) and any postmaster left. */
  async stop(graceMs = 40_000): Promise<void> {
    const errors: unknown[] = [];
    for (const f of this.forwarders) await f.stop().catch((e: unknown) => errors.push(e));
    for (const p of this.pods) p.stop();
    for (const m of this.members) if (isAlive(m.pid)) process.kill(m.pid!, 'SIGTERM');
    await Promise.all(this.members.map((m) => this.exited(m.name, graceMs)));
    for (const m of this.members) {
      if (isAlive(m.pid) && this.children.get(m.name)?.exitCode === null) process.kill(m.pid!, 'SIGKILL');
      const pg = postmasterPid(m.dataDir);
      if (pg && isAlive(pg) && isPostgres(pg)) process.kill(pg, 'SIGKILL');
    }
    for (const p of this.pods) await p.delete().catch((e: unknown) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, 'sandbox cluster did not stop cleanly');
  }
}
