/**
 * The real cluster's addresses and names. Every address lives inside network namespaces the harness creates, and
 * every range is a documentation range (RFC 5737), so nothing here can reach or shadow a real network:
 * - 192.0.2.0/24 (TEST-NET-1): the link between the control plane and the nodes;
 * - 198.51.100.0/24 (TEST-NET-2): Pod addresses, a /26 per node;
 * - 203.0.113.0/24 (TEST-NET-3): Service ClusterIPs (the `kubernetes` Service is 203.0.113.1).
 */

/** At most four nodes: the Pod range holds four /26 subnets. */
export const MAX_NODES = 4;

export const CONTROL_PLANE_IP = '192.0.2.1';
export const LINK_PREFIX = 24;
export const POD_CIDR = '198.51.100.0/24';
export const SERVICE_CIDR = '203.0.113.0/24';
export const APISERVER_PORT = 6443;

export function nodeIp(index: number): string {
  return `192.0.2.${11 + index}`;
}

export function podSubnet(index: number): string {
  return `198.51.100.${64 * index}/26`;
}

export function podGateway(index: number): string {
  return `198.51.100.${64 * index + 1}`;
}

/** Kubernetes names of the nodes. */
export function nodeName(index: number): string {
  return `node-${index}`;
}

/** Names of everything one cluster makes on the host, derived from its id so two clusters never collide. */
export interface ClusterNames {
  readonly id: string;
  /** Network namespace of the control plane (etcd, apiserver, controller-manager, scheduler, a kube-proxy). */
  readonly controlPlaneNetns: string;
  nodeNetns(index: number): string;
  /** cgroup path (the same in every v1 hierarchy) under which all of the cluster's processes run. */
  readonly cgroupRoot: string;
  nodeCgroup(index: number): string;
  readonly controlPlaneCgroup: string;
  /** A private mount under which the mount-namespace files and the relays' sockets live. */
  readonly runDir: string;
}

/** Where the clusters' private mounts and registration files live on the host. */
export const RUN_ROOT = '/run/pgha-node';

export function clusterNames(id: string): ClusterNames {
  if (!/^[a-z0-9]{1,8}$/.test(id)) throw new Error(`cluster id must be 1-8 lowercase letters or digits; got ${JSON.stringify(id)}`);
  return {
    id,
    controlPlaneNetns: `pgha-${id}-cp`,
    nodeNetns: (i) => `pgha-${id}-n${i}`,
    cgroupRoot: `/pgha/${id}`,
    nodeCgroup: (i) => `/pgha/${id}/node-${i}`,
    controlPlaneCgroup: `/pgha/${id}/control-plane`,
    runDir: `${RUN_ROOT}/${id}`,
  };
}
