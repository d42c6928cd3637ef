import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../agent/src/kube/kube-client';
import { ensureBinaries, type ControlPlaneBinaries } from './binaries';
import { freePort, portInUse } from './free-port';
import { makePki } from './pki';
import { isRunning, type ManagedProcess, startProcess, stopProcess, tail } from './processes';
import { sleep } from '../../agent/src/clock';

export interface ControlPlaneOptions {
  /** Working directory for data, certificates and logs. @default a new directory under the OS temp dir */
  readonly dir?: string;
  /**
   * One kube-apiserver per address, all on the same port and etcd (the `kubernetes` Endpoints need that).
   * @default ['127.0.0.1']
   */
  readonly apiServerAddresses?: readonly string[];
  /** The apiservers' secure port. @default a free port */
  readonly port?: number;
  /** etcd's client port. @default a free port */
  readonly etcdPort?: number;
  /**
   * How the apiservers maintain `default/kubernetes` Endpoints. `lease` needs non-loopback addresses (Endpoints
   * validation rejects 127.0.0.0/8), so it is for network-namespace tests. @default 'none'
   */
  readonly endpointReconciler?: 'none' | 'lease';
  /** Start kube-controller-manager. @default true */
  readonly controllerManager?: boolean;
  /** Kill every process when the starting Node process dies. @default true */
  readonly dieWithParent?: boolean;
  /** How long to wait for `/readyz`. @default 90000 */
  readonly readyTimeoutMs?: number;
  /** The Service range; its first address is the `kubernetes` Service. @default '203.0.113.0/24' */
  readonly serviceCidr?: string;
  /**
   * Run the processes elsewhere (the real node's network namespace): `prefix` enters it and must exec, keeping the
   * PID; `clientServer` is the URL under which this process reaches the first apiserver from outside.
   * @default - loopback processes of this network namespace
   */
  readonly placement?: { readonly prefix: readonly string[]; readonly clientServer: string };
  /**
   * Serve real nodes: Node authorization and NodeRestriction, the apiserver's kubelet client certificate,
   * kube-scheduler, the node, volume and eviction controllers, and a token for each named user (kubelets,
   * kube-proxy). @default - no nodes
   */
  readonly nodes?: { readonly users: readonly { readonly name: string; readonly groups?: readonly string[] }[] };
}

/** Everything a client needs to use a running control plane; written to `<dir>/state.json`. */
export interface ControlPlaneState {
  readonly dir: string;
  /** The first apiserver's URL, as this process reaches it. */
  readonly server: string;
  /** Every apiserver's URL as processes inside the control plane's network reach it. */
  readonly servers: readonly string[];
  readonly caFile: string;
  readonly adminToken: string;
  /** An admin kubeconfig (token auth) for kubectl-like tools. */
  readonly kubeconfig: string;
  readonly etcdUrl: string;
  readonly processes: readonly ManagedProcess[];
  /** Bearer tokens of the `nodes.users`, by user name. */
  readonly userTokens: Readonly<Record<string, string>>;
}

// Controllers the tests rely on: service accounts for admission, namespace deletion, ownership GC, StatefulSet pods,
// Endpoints/EndpointSlices behind Services, and PDB status.
const CONTROLLERS = [
  'serviceaccount-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'statefulset-controller',
  'endpoints-controller',
  'endpointslice-controller',
  'endpointslice-mirroring-controller',
  'replicaset-controller',
  'disruption-controller',
  'root-ca-certificate-publisher-controller',
];
// With real nodes: node health and taint eviction, volume binding and protection, Pod GC, Deployments (helm tests).
const NODE_CONTROLLERS = [
  'node-lifecycle-controller',
  'taint-eviction-controller',
  'persistentvolume-binder-controller',
  'persistentvolume-protection-controller',
  'persistentvolumeclaim-protection-controller',
  'pod-garbage-collector-controller',
  'deployment-controller',
  'job-controller',
];

export function kubeconfigYaml(server: string, caFile: string, token: string, user: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: pgha-test`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${caFile}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    `- name: pgha-test`,
    '  context: {cluster: pgha-test, user: ' + user + '}',
    'current-context: pgha-test',
    '',
  ].join('\n');
}

/** Failure to start, naming the cause and the log to read. Every process already started has been stopped. */
export class ControlPlaneStartError extends Error {
  override readonly name = 'ControlPlaneStartError';
}

/**
 * A real control plane: etcd, one or more kube-apiservers and kube-controller-manager, as local processes.
 * `start()` returns only when every apiserver answers `/readyz`; on any failure it stops what it started.
 */
export class ControlPlane {
  private constructor(readonly state: ControlPlaneState) {}

  static async start(opts: ControlPlaneOptions = {}, binaries: ControlPlaneBinaries = ensureBinaries()): Promise<ControlPlane> {
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'pgha-cp-'));
    mkdirSync(dir, { recursive: true });
    const addresses = opts.apiServerAddresses ?? ['127.0.0.1'];
    const host = addresses[0]!;
    const started: ManagedProcess[] = [];
    const dieWithParent = opts.dieWithParent ?? true;
    const prefix = opts.placement?.prefix;
    const nodes = opts.nodes;
    const fail = async (message: string): Promise<never> => {
      await Promise.all(started.map((p) => stopProcess(p, 2000)));
      throw new ControlPlaneStartError(message);
    };

    // In a namespace of its own nothing else listens, so fixed ports are free; here the ports are checked.
    const port = opts.port ?? (prefix ? 6443 : await freePort(host));
    const etcdPort = opts.etcdPort ?? (prefix ? 2379 : await freePort('127.0.0.1'));
    const etcdPeerPort = prefix ? 2380 : await freePort('127.0.0.1');
    if (!prefix) {
      for (const [h, p, what] of [...addresses.map((a) => [a, port, 'kube-apiserver'] as const), ['127.0.0.1', etcdPort, 'etcd'] as const]) {
        if (await portInUse(h, p)) await fail(`${what} cannot start: port ${p} on ${h} is already in use`);
      }
    }

    const pki = makePki(dir, addresses);
    const token = () => randomBytes(24).toString('hex');
    const adminToken = token();
    const kcmToken = token();
    const schedulerToken = token();
    const userTokens: Record<string, string> = Object.fromEntries((nodes?.users ?? []).map((u) => [u.name, token()]));
    const tokens = join(dir, 'tokens.csv');
    const tokenLines = [
      `${adminToken},admin,admin,"system:masters"`,
      `${kcmToken},system:kube-controller-manager,kcm`,
      `${schedulerToken},system:kube-scheduler,kube-scheduler`,
      ...(nodes?.users ?? []).map((u) => `${userTokens[u.name]},${u.name},${u.name}${u.groups?.length ? `,"${u.groups.join(',')}"` : ''}`),
    ];
    writeFileSync(tokens, `${tokenLines.join('\n')}\n`, { mode: 0o600 });

    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcdLog = join(dir, 'etcd.log');
    started.push(
      startProcess({
        name: 'etcd',
        binary: binaries.etcd,
        log: etcdLog,
        dieWithParent,
        prefix,
        args: [
          '--name=pgha-test',
          `--data-dir=${join(dir, 'etcd-data')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
          `--initial-cluster=pgha-test=http://127.0.0.1:${etcdPeerPort}`,
          // Tests throw the data away; fsync only slows them down.
          '--unsafe-no-fsync',
          '--log-level=warn',
        ],
      }),
    );

    const servers = addresses.map((a) => `https://${a}:${port}`);
    addresses.forEach((address, i) => {
      started.push(
        startProcess({
          name: `kube-apiserver-${i}`,
          binary: binaries.kubeApiserver,
          log: join(dir, `kube-apiserver-${i}.log`),
          dieWithParent,
          prefix,
          args: [
            `--etcd-servers=${etcdUrl}`,
            `--bind-address=${address}`,
            `--advertise-address=${address}`,
            `--secure-port=${port}`,
            `--tls-cert-file=${pki.servingCert}`,
            `--tls-private-key-file=${pki.servingKey}`,
            `--client-ca-file=${pki.caCert}`,
            `--service-cluster-ip-range=${opts.serviceCidr ?? '203.0.113.0/24'}`,
            '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
            `--service-account-key-file=${pki.saPub}`,
            `--service-account-signing-key-file=${pki.saKey}`,
            `--authorization-mode=${nodes ? 'Node,RBAC' : 'RBAC'}`,
            ...(nodes
              ? [
                  '--enable-admission-plugins=NodeRestriction',
                  `--kubelet-client-certificate=${pki.kubeletClientCert}`,
                  `--kubelet-client-key=${pki.kubeletClientKey}`,
                  // No DNS exists for node names: logs and exec reach the kubelet at the node's address.
                  '--kubelet-preferred-address-types=InternalIP',
                ]
              : []),
            // As on real clusters: privileged Pods are valid objects; admission policy (Pod Security) decides.
            '--allow-privileged=true',
            `--token-auth-file=${tokens}`,
            `--endpoint-reconciler-type=${opts.endpointReconciler ?? 'none'}`,
            '--profiling=false',
            '--v=1',
          ],
        }),
      );
    });

    const clientServer = opts.placement?.clientServer ?? servers[0]!;
    const kubeconfig = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(clientServer, pki.caCert, adminToken, 'admin'), { mode: 0o600 });
    const caPem = readFileSync(pki.caCert, 'utf8');

    // Wait for every apiserver's /readyz, watching for early exits so a crash is reported at once.
    const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
    for (const server of opts.placement ? [clientServer] : servers) {
      const client = new KubeClient({ server, caPem, token: () => adminToken });
      try {
        for (;;) {
          const dead = started.find((p) => !isRunning(p));
          if (dead) {
            const log = tail(dead.log);
            const cause = /address already in use/.test(log) ? 'a port it needs is already in use' : 'it exited';
            await fail(`${dead.name} failed to start: ${cause}; read ${dead.log}\n${log}`);
          }
          try {
            await client.request({ method: 'GET', path: '/readyz', timeoutMs: 2000 });
            break;
          } catch {
            if (Date.now() > deadline) {
              const api = started.find((p) => p.name.startsWith('kube-apiserver'))!;
              await fail(`kube-apiserver at ${server} never became ready; read ${api.log}\n${tail(api.log)}`);
            }
            await sleep(100);
          }
        }
      } finally {
        client.close();
      }
    }

    if (opts.controllerManager ?? true) {
      const kcmConfig = join(dir, 'kcm.kubeconfig');
      writeFileSync(kcmConfig, kubeconfigYaml(servers[0]!, pki.caCert, kcmToken, 'kcm'), { mode: 0o600 });
      started.push(
        startProcess({
          name: 'kube-controller-manager',
          binary: binaries.kubeControllerManager,
          log: join(dir, 'kube-controller-manager.log'),
          dieWithParent,
          prefix,
          args: [
            `--kubeconfig=${kcmConfig}`,
            '--leader-elect=false',
            // Each controller acts as its own service account, bound to its bootstrap role, as in real clusters;
            // without this the controllers run as the KCM user, which RBAC does not let create Pods or slices.
            '--use-service-account-credentials=true',
            '--bind-address=127.0.0.1',
            '--secure-port=0',
            `--controllers=${[...CONTROLLERS, ...(nodes ? NODE_CONTROLLERS : [])].join(',')}`,
            `--service-account-private-key-file=${pki.saKey}`,
            `--root-ca-file=${pki.caCert}`,
            '--concurrent-statefulset-syncs=5',
            '--v=1',
          ],
        }),
      );
    }

    if (nodes) {
      const schedulerConfig = join(dir, 'kube-scheduler.kubeconfig');
      writeFileSync(schedulerConfig, kubeconfigYaml(servers[0]!, pki.caCert, schedulerToken, 'kube-scheduler'), { mode: 0o600 });
      started.push(
        startProcess({
          name: 'kube-scheduler',
          binary: binaries.kubeScheduler,
          log: join(dir, 'kube-scheduler.log'),
          dieWithParent,
          prefix,
          args: [`--kubeconfig=${schedulerConfig}`, '--leader-elect=false', '--secure-port=0', '--v=1'],
        }),
      );
    }

    const state: ControlPlaneState = {
      dir,
      server: clientServer,
      servers,
      caFile: pki.caCert,
      adminToken,
      kubeconfig,
      etcdUrl,
      processes: started,
      userTokens,
    };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state, null, 2), { mode: 0o600 });
    return new ControlPlane(state);
  }

  /** Attaches to a control plane started elsewhere, from its `state.json`. */
  static attach(stateFile: string): ControlPlane {
    return new ControlPlane(JSON.parse(readFileSync(stateFile, 'utf8')) as ControlPlaneState);
  }

  get caPem(): string {
    return readFileSync(this.state.caFile, 'utf8');
  }

  /** A client with cluster-admin rights. */
  adminClient(): KubeClient {
    const token = this.state.adminToken;
    return new KubeClient({ server: this.state.server, caPem: this.caPem, token: () => token });
  }

  /** A client that authenticates with `token` (e.g. a service-account token). */
  clientWithToken(token: string, server = this.state.server): KubeClient {
    return new KubeClient({ server, caPem: this.caPem, token: () => token });
  }

  /** Names of processes that are no longer running. */
  deadProcesses(): string[] {
    return this.state.processes.filter((p) => !isRunning(p)).map((p) => p.name);
  }

  /** Stops exactly the processes this control plane started, controller-manager first, etcd last. */
  async stop(): Promise<void> {
    const order = [...this.state.processes].reverse();
    for (const p of order) await stopProcess(p);
  }
}
