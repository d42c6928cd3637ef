import { stringify as toYaml } from 'yaml';
import { nodeIp, POD_CIDR, podGateway, podSubnet } from './addresses';

/** The files one node's daemons are configured with; every path is inside the node's own directory. */
export interface NodePaths {
  readonly dir: string;
  readonly containerdConfig: string;
  readonly containerdRoot: string;
  /** containerd's gRPC socket; a host path, so `ctr` on the host can import images. */
  readonly containerdSocket: string;
  readonly cniConfDir: string;
  readonly cniIpamDir: string;
  readonly kubeletConfig: string;
  readonly kubeletKubeconfig: string;
  readonly kubeletRoot: string;
  readonly podLogs: string;
  readonly proxyConfig: string;
  readonly proxyKubeconfig: string;
  readonly mountNs: string;
}

export function nodePaths(dir: string, mountNs: string): NodePaths {
  return {
    dir,
    containerdConfig: `${dir}/containerd.toml`,
    containerdRoot: `${dir}/containerd`,
    containerdSocket: `${dir}/containerd.sock`,
    cniConfDir: `${dir}/cni`,
    cniIpamDir: `${dir}/cni-ipam`,
    kubeletConfig: `${dir}/kubelet.yaml`,
    kubeletKubeconfig: `${dir}/kubelet.kubeconfig`,
    kubeletRoot: `${dir}/kubelet`,
    podLogs: `${dir}/pod-logs`,
    proxyConfig: `${dir}/kube-proxy.yaml`,
    proxyKubeconfig: `${dir}/kube-proxy.kubeconfig`,
    mountNs,
  };
}

export const PAUSE_IMAGE = 'localhost/pgha-pause:1';

/**
 * containerd 1.6 with the CRI plugin. `restrict_oom_score_adj`: this VM lacks CAP_SYS_RESOURCE, so runc cannot
 * lower oom_score_adj to the kubelet's -998 and every sandbox would fail. Pod network namespaces under the state
 * dir (a tmpfs of the node's mount namespace), runc with cgroupfs and a private root.
 */
export function containerdToml(p: NodePaths): string {
  return `version = 2
root = "${p.containerdRoot}"
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${p.containerdSocket}"

[ttrpc]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${p.containerdRoot}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "/run/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${p.cniConfDir}"
    max_conf_num = 1
`;
}

/** The bridge network of node `index`: its own /26 of the Pod range, hairpin so a Pod reaches itself via a Service. */
export function cniConflist(p: NodePaths, index: number): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'pgha',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: podSubnet(index), gateway: podGateway(index) }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: p.cniIpamDir,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

/**
 * The kubelet: cgroupfs driver on cgroup v1 under the node's own cgroup, webhook authentication and authorization
 * (the apiserver reaches it for logs and exec with its client certificate), no cluster DNS, and eviction and image
 * GC thresholds low enough that a shared build machine's disk never evicts a test's Pods.
 */
export function kubeletConfig(p: NodePaths, o: { caFile: string; cgroupRoot: string; index: number }): string {
  return toYaml({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: nodeIp(o.index),
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: o.caFile } },
    authorization: { mode: 'Webhook' },
    cgroupDriver: 'cgroupfs',
    cgroupRoot: o.cgroupRoot,
    cgroupsPerQOS: true,
    failCgroupV1: false,
    failSwapOn: false,
    resolvConf: '',
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    podLogsDir: p.podLogs,
    evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'nodefs.inodesFree': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    enableControllerAttachDetach: false,
    serializeImagePulls: false,
    maxPods: 60,
    shutdownGracePeriod: '0s',
  });
}

/** kube-proxy in iptables mode; the conntrack sizes are left alone (it may not write the host's sysctls). */
export function kubeProxyConfig(p: NodePaths, o: { hostname: string; bindAddress: string }): string {
  return toYaml({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: p.proxyKubeconfig },
    mode: 'iptables',
    hostnameOverride: o.hostname,
    bindAddress: o.bindAddress,
    clusterCIDR: POD_CIDR,
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    iptables: { localhostNodePorts: false },
  });
}
