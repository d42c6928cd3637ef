import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeClient } from '../../agent/src/kube/kube-client';
import { ensureBinaries, type ControlPlaneBinaries } from '../control-plane/binaries';
import { ControlPlane, kubeconfigYaml } from '../control-plane/control-plane';
import { freePort } from '../control-plane/free-port';
import { isRunning, type ManagedProcess, startProcess, stopProcess, tail } from '../control-plane/processes';
import { APISERVER_PORT, CONTROL_PLANE_IP, clusterNames, MAX_NODES, nodeName, type ClusterNames } from './addresses';
import { cgroupPids, createCgroup, destroyCgroup, findPodCgroup, freezeCgroup, joinCgroupPrefix, thawCgroup } from './cgroups';
import { compiledScript } from './compiled';
import { checkNodePrerequisites, nsenterPrefix } from './host';
import { privateDir } from './mount-namespace';
import { createControlPlaneNetwork, createNodeNetwork, cutNode } from './network';
import { kubeProxyConfig, nodePaths } from './node-config';
import { importImage, startNode } from './node-daemons';
import { PROVISIONER, STORAGE_CLASS } from './storage';
import { register, teardownCluster, teardownStaleClusters, type ClusterRegistration } from './teardown';
import { sleep } from '../../agent/src/clock';

const execFileAsync = promisify(execFile);

export interface RealClusterOptions {
  /** @default 1 */
  readonly nodes?: number;
  /** Work directory (etcd data, containerd roots, volumes, logs). @default a new directory under the OS temp dir */
  readonly dir?: string;
  /** @default 'test' (a test run's: removed by the next run once its owner is gone) */
  readonly kind?: ClusterRegistration['kind'];
  /** Kill the cluster's daemons when this process dies. @default true */
  readonly dieWithParent?: boolean;
  /** OCI image archives every node imports (the agent image); the pause image is always imported. */
  readonly images?: readonly string[];
  /** How long the nodes get to become Ready. @default 120000 */
  readonly readyTimeoutMs?: number;
}

export interface RealNode {
  readonly index: number;
  readonly name: string;
  readonly ip: string;
  readonly containerdSocket: string;
  readonly dir: string;
}

/** Everything needed to use or tear down a running cluster; written to `<dir>/cluster.json`. */
export interface RealClusterState {
  readonly id: string;
  readonly dir: string;
  /** Admin kubeconfig for this machine's processes (kubectl included): the apiserver through a relay on loopback. */
  readonly kubeconfig: string;
  /** Admin kubeconfig for processes run in the control-plane namespace (`inClusterNetwork`): the apiserver itself. */
  readonly insideKubeconfig: string;
  readonly server: string;
  readonly caFile: string;
  readonly adminToken: string;
  readonly nodes: readonly RealNode[];
  readonly processes: readonly ManagedProcess[];
  readonly kubectl: string;
}

/** A loopback address on this machine that leads to an address inside the cluster. */
export interface Relay {
  readonly host: string;
  readonly port: number;
  readonly processes: readonly ManagedProcess[];
  stop(): Promise<void>;
}

/** Failure to start the cluster, naming the cause and the log to read; nothing it made is left behind. */
export class RealClusterStartError extends Error {
  override readonly name = 'RealClusterStartError';
}

/**
 * A real Kubernetes cluster on this machine: etcd, kube-apiserver, controller-manager and scheduler in a
 * control-plane network namespace, and one to four nodes, each with its own network and mount namespaces, cgroup,
 * containerd, kubelet and kube-proxy; Pods on CNI bridges; PersistentVolumes from a local-path provisioner. This
 * process reaches it through relays on 127.0.0.1 (see `relay-main.ts`).
 */
export class RealCluster {
  private readonly names: ClusterNames;

  private constructor(readonly state: RealClusterState) {
    this.names = clusterNames(state.id);
  }

  static async start(opts: RealClusterOptions = {}, binaries: ControlPlaneBinaries = ensureBinaries()): Promise<RealCluster> {
    const count = opts.nodes ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > MAX_NODES) throw new RealClusterStartError(`nodes must be 1 to ${MAX_NODES}; got ${count}`);
    checkNodePrerequisites();
    const kind = opts.kind ?? 'test';
    if (kind !== 'sandbox') teardownStaleClusters();
    const id = randomBytes(3).toString('hex');
    const names = clusterNames(id);
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `pgha-cluster-${id}-`));
    mkdirSync(dir, { recursive: true });
    register({ id, kind, ownerPid: process.pid, dir });
    const dieWithParent = opts.dieWithParent ?? true;
    try {
      return await RealCluster.bringUp(names, dir, count, dieWithParent, opts, binaries);
    } catch (err) {
      teardownCluster(id, { keepDir: Boolean(process.env.PGHA_KEEP_CLUSTER_DIR) });
      if (err instanceof RealClusterStartError) throw err;
      throw new RealClusterStartError(`the real cluster did not start: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  private static async bringUp(
    names: ClusterNames,
    dir: string,
    count: number,
    dieWithParent: boolean,
    opts: RealClusterOptions,
    binaries: ControlPlaneBinaries,
  ): Promise<RealCluster> {
    privateDir(names.runDir);
    createCgroup(names.controlPlaneCgroup);
    createControlPlaneNetwork(names);
    for (let i = 0; i < count; i++) createNodeNetwork(names, i, count);
    const cpPrefix = [...nsenterPrefix(names.controlPlaneNetns), ...joinCgroupPrefix(names.controlPlaneCgroup)];

    const processes: ManagedProcess[] = [];
    const apiRelay = await startRelay(names, dir, `${CONTROL_PLANE_IP}:${APISERVER_PORT}`, 'apiserver', dieWithParent);
    processes.push(...apiRelay.processes);
    const nodeUsers = Array.from({ length: count }, (_, i) => ({ name: `system:node:${nodeName(i)}`, groups: ['system:nodes'] }));
    const cp = await ControlPlane.start(
      {
        dir: join(dir, 'control-plane'),
        apiServerAddresses: [CONTROL_PLANE_IP],
        endpointReconciler: 'lease',
        placement: { prefix: cpPrefix, clientServer: `https://${apiRelay.host}:${apiRelay.port}` },
        nodes: { users: [...nodeUsers, { name: 'system:kube-proxy' }] },
        dieWithParent,
      },
      binaries,
    );
    processes.push(...cp.state.processes);
    const caFile = cp.state.caFile;
    const server = `https://${CONTROL_PLANE_IP}:${APISERVER_PORT}`;

    // kube-proxy here too: the relays to Services start in this namespace and need its rules.
    const cpProxy = nodePaths(join(dir, 'control-plane'), '');
    writeFileSync(cpProxy.proxyConfig, kubeProxyConfig(cpProxy, { hostname: 'control-plane', bindAddress: CONTROL_PLANE_IP }));
    writeFileSync(cpProxy.proxyKubeconfig, kubeconfigYaml(server, caFile, cp.state.userTokens['system:kube-proxy']!, 'system:kube-proxy'), { mode: 0o600 });
    const adminInside = join(dir, 'control-plane', 'admin-inside.kubeconfig');
    writeFileSync(adminInside, kubeconfigYaml(server, caFile, cp.state.adminToken, 'admin'), { mode: 0o600 });
    processes.push(
      startProcess({
        name: 'control-plane/kube-proxy',
        binary: binaries.kubeProxy,
        args: [`--config=${cpProxy.proxyConfig}`, '--v=1'],
        log: join(dir, 'control-plane', 'kube-proxy.log'),
        dieWithParent,
        prefix: cpPrefix,
      }),
      startProcess({
        name: 'control-plane/provisioner',
        binary: process.execPath,
        args: [compiledScript('test/node/provisioner-main.ts'), adminInside, join(dir, 'volumes')],
        log: join(dir, 'control-plane', 'provisioner.log'),
        dieWithParent,
        prefix: cpPrefix,
      }),
    );
    const admin = cp.adminClient();
    try {
      await admin.request({
        method: 'POST',
        path: '/apis/storage.k8s.io/v1/storageclasses',
        body: {
          apiVersion: 'storage.k8s.io/v1',
          kind: 'StorageClass',
          metadata: { name: STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
          provisioner: PROVISIONER,
          reclaimPolicy: 'Delete',
          // As local-path provisioners do: the scheduler picks the node first, then the volume is made. (With
          // Immediate, a Pod found unschedulable just before its claim bound can wait minutes for a retry.)
          volumeBindingMode: 'WaitForFirstConsumer',
        },
      });

      const started = await Promise.all(
        Array.from({ length: count }, (_, i) =>
          startNode(
            {
              names,
              dir,
              caFile,
              kubeletToken: cp.state.userTokens[`system:node:${nodeName(i)}`]!,
              proxyToken: cp.state.userTokens['system:kube-proxy']!,
              binaries,
              images: [binaries.pauseArchive, ...(opts.images ?? [])],
              dieWithParent,
            },
            i,
          ),
        ),
      );
      for (const n of started) processes.push(...n.processes);
      await waitNodesReady(admin, count, processes, opts.readyTimeoutMs ?? 120_000);
      const state: RealClusterState = {
        id: names.id,
        dir,
        kubeconfig: cp.state.kubeconfig,
        insideKubeconfig: adminInside,
        server: cp.state.server,
        caFile,
        adminToken: cp.state.adminToken,
        nodes: started.map((n) => ({ index: n.index, name: n.name, ip: n.ip, containerdSocket: n.paths.containerdSocket, dir: n.paths.dir })),
        processes,
        kubectl: binaries.kubectl,
      };
      writeFileSync(join(dir, 'cluster.json'), JSON.stringify(state, null, 2), { mode: 0o600 });
      return new RealCluster(state);
    } finally {
      admin.close();
    }
  }

  /** Attaches to a cluster started by another process (jest's global setup, the sandbox). */
  static attach(stateFile: string): RealCluster {
    return new RealCluster(JSON.parse(readFileSync(stateFile, 'utf8')) as RealClusterState);
  }

  get stateFile(): string {
    return join(this.state.dir, 'cluster.json');
  }

  adminClient(): KubeClient {
    const token = this.state.adminToken;
    return new KubeClient({ server: this.state.server, caPem: readFileSync(this.state.caFile, 'utf8'), token: () => token });
  }

  /** Runs kubectl against the cluster; resolves with its stdout, rejects with its stderr. */
  async kubectl(args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const child = execFileAsync(this.state.kubectl, [...args], {
      env: { ...process.env, KUBECONFIG: this.state.kubeconfig },
      timeout: opts.timeoutMs ?? 60_000,
      maxBuffer: 64 << 20,
    });
    if (opts.input !== undefined) {
      child.child.stdin?.end(opts.input);
    }
    try {
      return (await child).stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`kubectl ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
    }
  }

  /**
   * A loopback address of this machine that leads to `target` (`host:port` inside the cluster: a ClusterIP, a Pod
   * IP). It ends with this process unless `outliveCaller` (the sandbox's); the cluster's teardown ends it anyway.
   */
  relay(target: string, opts: { outliveCaller?: boolean } = {}): Promise<Relay> {
    return startRelay(this.names, this.state.dir, target, `relay-${randomBytes(3).toString('hex')}`, !opts.outliveCaller);
  }

  /** A relay to a Service port through kube-proxy (the ClusterIP), as a client inside the cluster connects. */
  async serviceRelay(namespace: string, service: string, port: number, opts: { outliveCaller?: boolean } = {}): Promise<Relay> {
    const admin = this.adminClient();
    try {
      const res = await admin.request<{ spec: { clusterIP: string } }>({ method: 'GET', path: `/api/v1/namespaces/${namespace}/services/${service}` });
      return await this.relay(`${res.body.spec.clusterIP}:${port}`, opts);
    } finally {
      admin.close();
    }
  }

  /** Whether every daemon still runs and the apiserver answers /readyz. */
  async healthy(): Promise<{ ok: boolean; dead: string[] }> {
    const dead = this.state.processes.filter((p) => !isRunning(p)).map((p) => p.name);
    const client = this.adminClient();
    try {
      await client.request({ method: 'GET', path: '/readyz', timeoutMs: 3000 });
      return { ok: dead.length === 0, dead };
    } catch {
      return { ok: false, dead: [...dead, 'kube-apiserver (not ready)'] };
    } finally {
      client.close();
    }
  }

  /** Imports an image archive into every node's containerd (an image rebuilt since the cluster started). */
  async importImage(archive: string): Promise<void> {
    await Promise.all(this.state.nodes.map((n) => importImage(n.containerdSocket, archive)));
  }

  /** Runs a command in the control-plane network namespace, where Pod and Service addresses route (patronictl, the CLI). */
  inClusterNetwork(command: readonly string[]): string[] {
    return [...nsenterPrefix(this.names.controlPlaneNetns), ...command];
  }

  /**
   * The processes of a Pod's containers on its node (found by the Pod's cgroup under the node's cgroupRoot), with
   * their command lines; the pause process is included.
   */
  podProcesses(podUid: string, nodeIndex: number): { pid: number; cmdline: string[] }[] {
    const cgroup = findPodCgroup(`${this.names.nodeCgroup(nodeIndex)}/pods`, podUid);
    if (!cgroup) return [];
    return cgroupPids(cgroup).flatMap((pid) => {
      try {
        return [{ pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean) }];
      } catch {
        return [];
      }
    });
  }

  /**
   * SIGKILLs every process of a Pod's containers in one instant (the Pod's cgroup frozen meanwhile), leaving the
   * sandbox (pause) alone, as a container whose processes all crashed; the kubelet restarts the container.
   */
  killPodProcesses(podUid: string, nodeIndex: number): number[] {
    const cgroup = findPodCgroup(`${this.names.nodeCgroup(nodeIndex)}/pods`, podUid);
    if (!cgroup) return [];
    freezeCgroup(cgroup);
    const killed: number[] = [];
    try {
      for (const p of this.podProcesses(podUid, nodeIndex)) {
        if (p.cmdline[0] === '/pause') continue;
        try {
          process.kill(p.pid, 'SIGKILL');
          killed.push(p.pid);
        } catch {
          // Exited meanwhile.
        }
      }
    } finally {
      thawCgroup(cgroup);
    }
    return killed;
  }

  /** Index of the node named `name`. */
  nodeIndex(name: string): number {
    const n = this.state.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name} in this cluster`);
    return n.index;
  }

  /**
   * Loses node `index` at once, as a crashed machine: every process on it (daemons and containers) is frozen in the
   * same instant, its link goes down, then everything is killed. The node's objects stay in the API.
   */
  loseNode(index: number): void {
    const cgroup = this.names.nodeCgroup(index);
    freezeCgroup(cgroup);
    cutNode(this.names, index);
    destroyCgroup(cgroup);
  }

  /** Stops everything and removes what the cluster made (keeps the work directory when asked, for its logs). */
  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    // Daemons first by PID, gently, so the apiserver releases its lease; the cgroups catch everything else.
    for (const p of [...this.state.processes].reverse()) if (p.name.startsWith('control-plane/') || p.name.includes('apiserver')) await stopProcess(p, 2000);
    teardownCluster(this.state.id, opts);
  }
}

async function waitNodesReady(admin: KubeClient, count: number, processes: readonly ManagedProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = processes.find((p) => !isRunning(p));
    if (dead) throw new RealClusterStartError(`${dead.name} exited while the nodes were starting; read ${dead.log}\n${tail(dead.log)}`);
    const res = await admin.request<{ items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] }>({
      method: 'GET',
      path: '/api/v1/nodes',
    });
    const ready = res.body.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (ready.length === count) return;
    if (Date.now() > deadline) {
      const kubelet = processes.find((p) => p.name.endsWith('/kubelet'))!;
      throw new RealClusterStartError(`only ${ready.length} of ${count} nodes became Ready within ${timeoutMs} ms; read ${kubelet.log}\n${tail(kubelet.log)}`);
    }
    await sleep(250);
  }
}

/** A relay pair: a socket listener in the control-plane namespace that dials `target`, and a loopback listener here. */
async function startRelay(names: ClusterNames, dir: string, target: string, label: string, dieWithParent: boolean): Promise<Relay> {
  const socket = join(names.runDir, `${label}.sock`);
  const script = compiledScript('test/node/relay-main.ts');
  if (!existsSync(script)) throw new RealClusterStartError(`${script} is missing; compile the project first (npx tsc -p tsconfig.json)`);
  const logDir = join(dir, 'relays');
  mkdirSync(logDir, { recursive: true });
  const inside = startProcess({
    name: `relay/${label}/inside`,
    binary: process.execPath,
    args: [script, 'unix-to-tcp', socket, target],
    log: join(logDir, `${label}-inside.log`),
    dieWithParent,
    prefix: [...nsenterPrefix(names.controlPlaneNetns), ...joinCgroupPrefix(names.controlPlaneCgroup)],
  });
  const port = await freePort('127.0.0.1');
  const outside = startProcess({
    name: `relay/${label}/outside`,
    binary: process.execPath,
    args: [script, 'tcp-to-unix', `127.0.0.1:${port}`, socket],
    log: join(logDir, `${label}-outside.log`),
    dieWithParent,
    prefix: joinCgroupPrefix(names.controlPlaneCgroup),
  });
  const processes = [inside, outside];
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket) || !tail(outside.log).includes('listening')) {
    const dead = processes.find((p) => !isRunning(p));
    if (dead) throw new RealClusterStartError(`relay to ${target} exited; read ${dead.log}\n${tail(dead.log)}`);
    if (Date.now() > deadline) throw new RealClusterStartError(`relay to ${target} did not start; read ${outside.log}`);
    await sleep(20);
  }
  return {
    host: '127.0.0.1',
    port,
    processes,
    stop: async () => {
      await Promise.all(processes.map((p) => stopProcess(p, 1000)));
    },
  };
}
