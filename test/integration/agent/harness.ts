// Runs real agent processes against the test control plane: compiles the agent once per source version, starts
// members as child processes (stopped by PID), and reads their JSON log lines.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { KubeApiError } from '../../../agent/src/kube/kube-error';
import type { ControlPlane } from '../../control-plane/control-plane';
import { sleep } from '../../../agent/src/clock';
import { pipeBoth } from '../../fixtures/socket-pipe';

/** The repository root, from the sources (ts-jest) or from compiled output under build/ (benchmarks). */
function repoRoot(): string {
  // Set for compiled scripts that run from a temp directory (the bypass scenario).
  if (process.env.PGHA_REPO_ROOT) return process.env.PGHA_REPO_ROOT;
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules')) && existsSync(join(dir, 'agent', 'src', 'main.ts'))) return dir;
  }
  throw new Error(`cannot find the repository root above ${__dirname}`);
}
const ROOT = repoRoot();

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/**
 * Compiles the entry named by a tsconfig (and what it imports) into a temp directory keyed by the hash of the
 * sources under `hashDirs`, once per source version; returns the output directory. Runs with NODE_PATH pointing
 * at the repository's node_modules.
 */
export function compileEntry(tsconfig: string, hashDirs: readonly string[]): string {
  const hash = createHash('sha256').update(tsconfig);
  for (const d of hashDirs) for (const f of sourceFiles(join(ROOT, d)).sort()) hash.update(relative(ROOT, f)).update(readFileSync(f));
  const out = join(tmpdir(), `pgha-build-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(join(out, '.complete'))) return out;
  const lock = `${out}.lock`;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(join(out, '.complete'))) return out;
      execFileSync('sleep', ['0.5']);
    }
  }
  try {
    if (!existsSync(join(out, '.complete'))) {
      execFileSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(ROOT, tsconfig), '--outDir', out], { cwd: ROOT, stdio: 'pipe' });
    }
  } catch (err) {
    // Type errors elsewhere in the tree must not stop these tests; tsc still emits. A missing output is fatal.
    if (!existsSync(out)) throw new Error(`build of ${tsconfig} failed: ${(err as { stdout?: Buffer }).stdout?.toString() ?? String(err)}`);
  } finally {
    if (existsSync(out)) writeFileSync(join(out, '.complete'), '');
    rmSync(lock, { recursive: true, force: true });
  }
  return out;
}

/** Compiles the agent (agent/src/main.ts and its imports); returns the path of main.js. */
export function agentBuild(): string {
  return join(compileEntry('test/integration/agent/tsconfig.agent.json', ['agent/src']), 'agent', 'src', 'main.js');
}

/** node_modules of the repository, for processes running compiled code from a temp directory. */
export const NODE_PATH = join(ROOT, 'node_modules');

export interface LogLine {
  readonly ts: string;
  readonly level: string;
  readonly msg: string;
  readonly component?: string;
  readonly [field: string]: unknown;
}

export interface AgentSpec {
  readonly name: string;
  readonly scope: string;
  readonly namespace: string;
  readonly kubeconfig: string;
  readonly ttl?: number;
  readonly loopWait?: number;
  readonly retryTimeout?: number;
  readonly useEndpoints?: boolean;
  readonly podIp?: string;
  /** Extra `kubernetes.*` keys. */
  readonly kubernetes?: Record<string, unknown>;
  /** Extra top-level keys (e.g. a wrong one for a config test). */
  readonly extra?: Record<string, unknown>;
  readonly wallClockOffsetMs?: number;
  /** @default true - the agent manages no PostgreSQL and serves no REST API (leader-election tests) */
  readonly lockOnly?: boolean;
  /** Extra environment variables. */
  readonly env?: NodeJS.ProcessEnv;
}

/** One agent process. */
export class AgentProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  private buffer = '';

  private constructor(
    readonly spec: AgentSpec,
    private readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onData(chunk));
    child.stderr!.on('data', (chunk: Buffer) => appendFileSync(logFile, chunk));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  }

  static start(spec: AgentSpec, dir: string): AgentProcess {
    const config = {
      scope: spec.scope,
      name: spec.name,
      namespace: spec.namespace,
      ttl: spec.ttl ?? 8,
      loop_wait: spec.loopWait ?? 1,
      retry_timeout: spec.retryTimeout ?? 2,
      kubernetes: { kubeconfig: spec.kubeconfig, use_endpoints: spec.useEndpoints ?? false, pod_ip: spec.podIp ?? '192.0.2.10', ...spec.kubernetes },
      restapi: { listen: '127.0.0.1:8008' },
      ...spec.extra,
    };
    const file = join(dir, `${spec.scope}-${spec.name}.yml`);
    writeFileSync(file, toYaml(config));
    const logFile = join(dir, `${spec.scope}-${spec.name}.log`);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_PATH,
      PATRONI_SUPERUSER_PASSWORD: 'test',
      PATRONI_REPLICATION_PASSWORD: 'test',
      ...(spec.wallClockOffsetMs ? { PGHA_TEST_WALL_CLOCK_OFFSET_MS: String(spec.wallClockOffsetMs) } : {}),
      ...(spec.lockOnly === false ? {} : { PGHA_TEST_LOCK_ONLY: '1' }),
      ...spec.env,
    };
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', process.execPath, agentBuild(), 'agent', '--config', file], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new AgentProcess(spec, child, logFile);
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, sig);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 8000): Promise<number | null> {
    this.signal('SIGTERM');
    const code = await Promise.race([this.exited, sleep(graceMs).then(() => 'timeout' as const)]);
    if (code !== 'timeout') return code;
    this.signal('SIGKILL');
    return this.exited;
  }

  find(pred: (l: LogLine) => boolean): LogLine | undefined {
    return this.lines.find(pred);
  }

  async waitFor(what: string, pred: (l: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`${this.name}: timed out waiting for ${what}; log ${this.logFile}; its last lines:\n${this.tail(25)}`);
      await sleep(50);
    }
  }

  /** The last `n` log lines: what a failed wait shows (the log file is removed with the test's directory). */
  tail(n: number): string {
    return this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join('\n');
  }

  private onData(chunk: string): void {
    appendFileSync(this.logFile, chunk);
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ ts: new Date().toISOString(), level: 'raw', msg: line });
      }
    }
  }
}

/** Intervals during which each agent acted as leader, from its own log ('acquired the lock' .. 'stopped acting as leader' or exit). */
export function leadershipIntervals(agents: readonly AgentProcess[], endMs = Date.now()): { name: string; from: number; to: number }[] {
  const out: { name: string; from: number; to: number }[] = [];
  for (const a of agents) {
    let from: number | null = null;
    for (const l of a.lines) {
      const t = Date.parse(l.ts) - (a.spec.wallClockOffsetMs ?? 0);
      if (l.msg === 'acquired the lock' && from === null) from = t;
      if (l.msg === 'stopped acting as leader' && from !== null) {
        out.push({ name: a.name, from, to: t });
        from = null;
      }
    }
    if (from !== null)
      out.push({
        name: a.name,
        from,
        to: a.running ? endMs : Date.parse(a.lines.at(-1)?.ts ?? new Date(endMs).toISOString()) - (a.spec.wallClockOffsetMs ?? 0),
      });
  }
  return out.sort((x, y) => x.from - y.from);
}

/** Fails when two agents' leadership intervals overlap (split brain). */
export function expectNoOverlap(agents: readonly AgentProcess[]): void {
  const iv = leadershipIntervals(agents);
  for (let i = 1; i < iv.length; i++) {
    const prev = iv[i - 1]!;
    const cur = iv[i]!;
    if (prev.name !== cur.name && cur.from < prev.to) {
      throw new Error(`split brain: ${prev.name} led until ${new Date(prev.to).toISOString()} but ${cur.name} led from ${new Date(cur.from).toISOString()}`);
    }
  }
}

/** A kubeconfig file for `token` against `server`. */
export function writeKubeconfig(dir: string, name: string, server: string, caFile: string, token: string): string {
  const path = join(dir, `${name}.kubeconfig`);
  writeFileSync(
    path,
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server, 'certificate-authority': caFile } }],
      users: [{ name: 'u', user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'c',
    }),
    { mode: 0o600 },
  );
  return path;
}

/**
 * A directory of the test's own, under the run's work root (made by the global setup and removed by its teardown)
 * so nothing is left in /tmp after a run.
 */
export function workDir(prefix: string): string {
  return mkdtempSync(join(process.env.PGHA_TEST_WORK_ROOT ?? tmpdir(), `pgha-${prefix}-`));
}

export interface TestPod {
  metadata: { name: string; uid: string; resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** Creates the member Pods (never scheduled; they exist so agents can publish status on them). */
export async function createMemberPods(admin: KubeClient, ns: string, scope: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    await admin.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/pods`,
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { 'cluster-name': scope } },
        spec: { containers: [{ name: 'postgres', image: 'postgres:16' }] },
      },
    });
  }
}

export async function getPod(admin: KubeClient, ns: string, name: string): Promise<TestPod> {
  return (await admin.request<TestPod>({ method: 'GET', path: `/api/v1/namespaces/${ns}/pods/${name}` })).body;
}

export interface LockObject {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  subsets?: { addresses?: { ip: string; targetRef?: { name: string } }[]; ports?: { name?: string; port: number }[] }[];
}

export async function readLock(admin: KubeClient, ns: string, scope: string, useEndpoints: boolean): Promise<LockObject | undefined> {
  const path = useEndpoints ? `/api/v1/namespaces/${ns}/endpoints/${scope}` : `/api/v1/namespaces/${ns}/configmaps/${scope}-leader`;
  try {
    return (await admin.request<LockObject>({ method: 'GET', path })).body;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return undefined;
    throw err;
  }
}

export async function holderOf(admin: KubeClient, ns: string, scope: string, useEndpoints: boolean): Promise<string | undefined> {
  const lock = await readLock(admin, ns, scope, useEndpoints);
  return lock?.metadata.annotations?.leader || undefined;
}

/** Stops every agent still running (SIGTERM then SIGKILL), by PID. */
export async function stopAll(agents: readonly AgentProcess[]): Promise<void> {
  await Promise.all(agents.map((a) => a.stop()));
}

export type { ControlPlane };

/**
 * A TCP forwarder in front of the API server, so a test can cut one agent off (connections refused, open ones
 * reset) and later let it back in. TLS passes through untouched.
 */
export class TcpProxy {
  private server: import('node:net').Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();
  private frozen = false;

  private constructor(
    private readonly target: { host: string; port: number },
    public port: number,
  ) {}

  static async start(targetUrl: string): Promise<TcpProxy> {
    const u = new URL(targetUrl);
    const proxy = new TcpProxy({ host: u.hostname, port: Number(u.port) }, 0);
    await proxy.listen();
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** Refuses new connections and resets open ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /**
   * Goes silent: open connections stop carrying bytes and new ones are accepted but lead nowhere, like a network
   * that drops packets. Requests hang until their own timeouts.
   */
  freeze(): void {
    this.frozen = true;
    for (const s of this.sockets) {
      s.unpipe();
      s.pause();
    }
  }

  /**
   * Silences the connections open now, as a path whose packets are dropped (a peer that vanished): they stay open
   * and carry nothing. New connections are forwarded as before.
   */
  silenceOpen(): void {
    for (const s of this.sockets) {
      s.unpipe();
      s.pause();
      s.removeAllListeners('data');
    }
    this.sockets.clear();
  }

  /** Accepts and forwards connections again on the same port (silent connections are reset). */
  async restore(): Promise<void> {
    if (this.frozen) {
      this.frozen = false;
      for (const s of this.sockets) s.destroy();
      this.sockets.clear();
    }
    if (!this.server) await this.listen();
  }

  close(): Promise<void> {
    return this.cut();
  }

  private async listen(): Promise<void> {
    const net = await import('node:net');
    const server = net.createServer((client) => {
      if (this.frozen) {
        this.sockets.add(client);
        client.on('error', () => client.destroy());
        return;
      }
      pipeBoth(client, net.connect(this.target.port, this.target.host), this.sockets);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (server.address() as import('node:net').AddressInfo).port;
    this.server = server;
  }
}
