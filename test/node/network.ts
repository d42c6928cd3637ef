import { existsSync } from 'node:fs';
import { CONTROL_PLANE_IP, LINK_PREFIX, nodeIp, podSubnet, SERVICE_CIDR, type ClusterNames } from './addresses';
import { NodePrerequisiteError, run, runIn } from './host';

/**
 * The cluster's network, all of it inside namespaces the harness creates:
 *
 *   control-plane netns: bridge `pgha-br` 192.0.2.1/24, routes to each node's Pod /26 and the Service range
 *     │ veth n<i> (bridge port) ── eth0 192.0.2.(11+i)/24
 *   node i netns: routes to the other nodes' Pod /26s and the Service range; the CNI bridge `cni0` for its Pods
 *
 * No namespace has a default route, and the host's own network is never touched: deleting the namespaces removes
 * every link, address, route and iptables rule.
 */
const BRIDGE = 'pgha-br';

function sysctl(netns: string, key: string, value: string): void {
  runIn(netns, 'sysctl', ['-q', '-w', `${key}=${value}`]);
}

function addNetns(name: string): void {
  if (!existsSync(`/run/netns/${name}`)) run('ip', ['netns', 'add', name]);
  run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  sysctl(name, 'net.ipv4.ip_forward', '1');
}

export function createControlPlaneNetwork(names: ClusterNames): void {
  const ns = names.controlPlaneNetns;
  addNetns(ns);
  run('ip', ['-n', ns, 'link', 'add', BRIDGE, 'type', 'bridge']);
  run('ip', ['-n', ns, 'addr', 'add', `${CONTROL_PLANE_IP}/${LINK_PREFIX}`, 'dev', BRIDGE]);
  run('ip', ['-n', ns, 'link', 'set', BRIDGE, 'up']);
  // Connections to ClusterIPs made here (the relays to Services) need a route for kube-proxy's OUTPUT rules to see.
  run('ip', ['-n', ns, 'route', 'add', SERVICE_CIDR, 'dev', BRIDGE]);
}

/** Adds node `index` and its routes, and the routes between it and the nodes before it. */
export function createNodeNetwork(names: ClusterNames, index: number, nodeCount: number): void {
  const ns = names.nodeNetns(index);
  const cp = names.controlPlaneNetns;
  addNetns(ns);
  if (!existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) {
    throw new NodePrerequisiteError(
      'br_netfilter is not available (/proc/sys/net/bridge is missing); kube-proxy needs it for Pods reaching Services on their own node',
    );
  }
  sysctl(ns, 'net.bridge.bridge-nf-call-iptables', '1');
  const port = `n${index}`;
  run('ip', ['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', cp]);
  run('ip', ['-n', cp, 'link', 'set', port, 'master', BRIDGE, 'up']);
  run('ip', ['-n', ns, 'addr', 'add', `${nodeIp(index)}/${LINK_PREFIX}`, 'dev', 'eth0']);
  run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  run('ip', ['-n', ns, 'route', 'add', SERVICE_CIDR, 'dev', 'eth0']);
  run('ip', ['-n', cp, 'route', 'add', podSubnet(index), 'via', nodeIp(index)]);
  for (let j = 0; j < nodeCount; j++) {
    if (j !== index) run('ip', ['-n', ns, 'route', 'add', podSubnet(j), 'via', nodeIp(j)]);
  }
}

/** Cuts node `index` off the network at once (its link goes down on the control plane's side), as a crashed machine. */
export function cutNode(names: ClusterNames, index: number): void {
  run('ip', ['-n', names.controlPlaneNetns, 'link', 'set', `n${index}`, 'down']);
}

/** Deletes a network namespace; its links, addresses, routes and iptables rules go with it. */
export function deleteNetns(name: string): void {
  if (existsSync(`/run/netns/${name}`)) run('ip', ['netns', 'delete', name], { allowFailure: true });
}
