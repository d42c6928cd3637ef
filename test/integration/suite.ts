// One setup for integration suites: a namespace of their own on the run's control plane, a work directory, an admin
// kubeconfig, and teardown of everything they registered. `agentSuite` adds lock-only agents; `haSuite` a cluster of
// agents with PostgreSQL.
import type { KubeClient } from '../../agent/src/kube/kube-client';
import type { ControlPlane } from '../control-plane/control-plane';
import { createTestNamespace, eventually, testControlPlane, type TestNamespace } from '../fixtures/cluster';
import {
  AgentProcess,
  type AgentSpec,
  agentBuild,
  createMemberPods,
  getPod,
  holderOf,
  type LockObject,
  readLock,
  stopAll,
  TcpProxy,
  type TestPod,
  workDir,
  writeKubeconfig,
} from './agent/harness';
import { HaCluster, type HaClusterOptions } from './ha/ha-harness';

/** How long a suite's setup may take: the first suite of a worker compiles the agent. */
const SETUP_TIMEOUT_MS = 300_000;

export interface SuiteOptions {
  /** Pod Security admission enforces `restricted` in the namespace. @default false */
  readonly restricted?: boolean;
}

/** What every integration suite shares. Read its fields inside tests and hooks: they are set in `beforeAll`. */
export class IntegrationSuite {
  readonly cp: ControlPlane = testControlPlane();
  private state: { admin: KubeClient; ns: TestNamespace; dir: string; kubeconfig: string } | undefined;
  private readonly teardowns: (() => Promise<void> | void)[] = [];

  constructor(readonly prefix: string) {}

  get admin(): KubeClient {
    return this.ready().admin;
  }

  /** The suite's own namespace's name. */
  get namespace(): string {
    return this.ready().ns.name;
  }

  get dir(): string {
    return this.ready().dir;
  }

  /** A kubeconfig file with the control plane's admin token. */
  get kubeconfig(): string {
    return this.ready().kubeconfig;
  }

  /** A kubeconfig file for `server` (a proxy in front of the API server, say) with the admin token. */
  kubeconfigFor(name: string, server: string): string {
    return writeKubeconfig(this.dir, name, server, this.cp.state.caFile, this.cp.state.adminToken);
  }

  /** The lock holder of `scope` in the suite's namespace, if any. */
  holderOf(scope: string, useEndpoints = false): Promise<string | undefined> {
    return holderOf(this.admin, this.namespace, scope, useEndpoints);
  }

  /** Waits until a member other than `previous` holds the lock of `scope`, polling every `everyMs`; returns it. */
  newHolder(scope: string, previous: string, o: { timeoutMs: number; everyMs?: number; useEndpoints?: boolean }): Promise<string> {
    return eventually(
      `a lock holder other than ${previous}`,
      async () => {
        const h = await this.holderOf(scope, o.useEndpoints);
        return h && h !== previous ? h : undefined;
      },
      o.timeoutMs,
      o.everyMs ?? 50,
    );
  }

  readLock(scope: string, useEndpoints = false): Promise<LockObject | undefined> {
    return readLock(this.admin, this.namespace, scope, useEndpoints);
  }

  /** Member Pods for agents to publish their status on (never scheduled). */
  createMemberPods(scope: string, names: readonly string[]): Promise<void> {
    return createMemberPods(this.admin, this.namespace, scope, names);
  }

  getPod(name: string): Promise<TestPod> {
    return getPod(this.admin, this.namespace, name);
  }

  /** Runs `fn` after the suite, before its namespace is deleted; the last registered runs first. */
  onTeardown(fn: () => Promise<void> | void): void {
    this.teardowns.push(fn);
  }

  async setUp(opts: SuiteOptions): Promise<void> {
    const admin = this.cp.adminClient();
    const ns = await createTestNamespace(admin, this.prefix, opts);
    const dir = workDir(this.prefix);
    this.state = { admin, ns, dir, kubeconfig: writeKubeconfig(dir, 'admin', this.cp.state.server, this.cp.state.caFile, this.cp.state.adminToken) };
  }

  async tearDown(): Promise<void> {
    for (const fn of this.teardowns.splice(0).reverse()) await fn();
    if (!this.state) return;
    await this.state.ns.delete();
    this.state.admin.close();
  }

  private ready(): NonNullable<IntegrationSuite['state']> {
    if (!this.state) throw new Error(`suite ${this.prefix}: its fields are set in beforeAll; read them inside tests or hooks`);
    return this.state;
  }
}

/** Registers the suite's `beforeAll` and `afterAll`. */
export function integrationSuite(prefix: string, opts: SuiteOptions = {}): IntegrationSuite {
  const suite = new IntegrationSuite(prefix);
  beforeAll(() => suite.setUp(opts), SETUP_TIMEOUT_MS);
  afterAll(() => suite.tearDown(), SETUP_TIMEOUT_MS);
  return suite;
}

export type SuiteAgentSpec = Omit<AgentSpec, 'namespace' | 'kubeconfig'> & { readonly kubeconfig?: string };

/** A suite that runs lock-only agents (see `AgentProcess`); every agent it starts is stopped after it. */
export class AgentSuite extends IntegrationSuite {
  readonly started: AgentProcess[] = [];
  private scopes = 0;

  constructor(
    prefix: string,
    private readonly defaults: Partial<AgentSpec>,
  ) {
    super(prefix);
    this.onTeardown(() => stopAll(this.started));
  }

  /** Starts an agent in the suite's namespace with the admin kubeconfig unless the spec names another. */
  start(spec: SuiteAgentSpec): AgentProcess {
    const agent = AgentProcess.start({ namespace: this.namespace, kubeconfig: this.kubeconfig, ...this.defaults, ...spec }, this.dir);
    this.started.push(agent);
    return agent;
  }

  /** A fresh scope `<tag><n>` with `count` member Pods `<scope>-0..`. */
  async newScope(count: number, tag = 's'): Promise<{ scope: string; names: string[] }> {
    const scope = `${tag}${++this.scopes}`;
    const names = Array.from({ length: count }, (_, i) => `${scope}-${i}`);
    await this.createMemberPods(scope, names);
    return { scope, names };
  }
}

export function agentSuite(prefix: string, defaults: Partial<AgentSpec> = {}, opts: SuiteOptions = {}): AgentSuite {
  const suite = new AgentSuite(prefix, defaults);
  beforeAll(async () => {
    await suite.setUp(opts);
    agentBuild();
  }, SETUP_TIMEOUT_MS);
  afterAll(() => suite.tearDown(), SETUP_TIMEOUT_MS);
  return suite;
}

export type SuiteClusterOptions = Omit<HaClusterOptions, 'admin' | 'namespace' | 'kubeconfig'>;

/** A suite around one HA cluster (agents with PostgreSQL), created in `beforeAll` and stopped after the suite. */
export class HaSuite extends IntegrationSuite {
  private current: HaCluster | undefined;

  get cluster(): HaCluster {
    if (!this.current) throw new Error(`suite ${this.prefix}: the cluster is created in beforeAll`);
    return this.current;
  }

  /** Another cluster in the suite's namespace, stopped after the suite. */
  async createCluster(o: SuiteClusterOptions): Promise<HaCluster> {
    const cluster = await HaCluster.create({ admin: this.admin, namespace: this.namespace, kubeconfig: this.kubeconfig, ...o });
    this.onTeardown(() => cluster.stop());
    return cluster;
  }

  /**
   * A cluster whose member `<scope>-0` reaches the API only through a TcpProxy the test can cut or silence (the
   * partition suites); the proxy is closed after the suite.
   */
  async createProxiedCluster(o: SuiteClusterOptions): Promise<{ cluster: HaCluster; proxy: TcpProxy }> {
    const proxy = await TcpProxy.start(this.cp.state.server);
    this.onTeardown(() => proxy.close());
    const viaProxy = this.kubeconfigFor(`${o.scope}-proxied`, proxy.url);
    const cluster = await this.createCluster({ ...o, kubeconfigFor: (name) => (name === `${o.scope}-0` ? viaProxy : this.kubeconfig) });
    return { cluster, proxy };
  }

  async setUpCluster(o: SuiteClusterOptions): Promise<void> {
    this.current = await this.createCluster(o);
  }
}

/**
 * Registers a suite whose `beforeAll` creates the cluster `o` describes, if any, and then runs `ready` (start
 * members, wait for a primary, make tables). Without `o`, tests make their own with `createCluster`.
 */
export function haSuite(prefix: string, o?: SuiteClusterOptions, ready?: (cluster: HaCluster) => Promise<void>, opts: SuiteOptions = {}): HaSuite {
  const suite = new HaSuite(prefix);
  beforeAll(async () => {
    await suite.setUp(opts);
    agentBuild();
    if (!o) return;
    await suite.setUpCluster(o);
    await ready?.(suite.cluster);
  }, SETUP_TIMEOUT_MS);
  afterAll(() => suite.tearDown(), SETUP_TIMEOUT_MS);
  return suite;
}
