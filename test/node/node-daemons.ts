import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubeconfigYaml } from '../control-plane/control-plane';
import { isRunning, type ManagedProcess, startProcess, tail } from '../control-plane/processes';
import { CONTROL_PLANE_IP, APISERVER_PORT, nodeIp, nodeName, type ClusterNames } from './addresses';
import { createCgroup, joinCgroupPrefix } from './cgroups';
import { nsenterPrefix } from './host';
import { createNodeMountNamespace } from './mount-namespace';
import { cniConflist, containerdToml, kubeletConfig, kubeProxyConfig, nodePaths, type NodePaths } from './node-config';
import { sleep } from '../../agent/src/clock';

const execFileAsync = promisify(execFile);

/** What starting one node needs from the cluster. */
export interface NodeStartContext {
  readonly names: ClusterNames;
  readonly dir: string;
  readonly caFile: string;
  readonly kubeletToken: string;
  readonly proxyToken: string;
  readonly binaries: { readonly kubelet: string; readonly kubeProxy: string };
  /** OCI archives imported into the node's containerd before the kubelet starts (no registry exists here). */
  readonly images: readonly string[];
  readonly dieWithParent: boolean;
}

export interface StartedNode {
  readonly index: number;
  readonly name: string;
  readonly ip: string;
  readonly paths: NodePaths;
  readonly processes: readonly ManagedProcess[];
}

/** Thrown when a node's daemon cannot start; names the daemon and its log. */
export class NodeStartError extends Error {
  override readonly name = 'NodeStartError';
}

async function waitFor(what: string, check: () => boolean, watch: readonly ManagedProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return;
    const dead = watch.find((p) => !isRunning(p));
    if (dead) throw new NodeStartError(`${dead.name} exited while waiting for ${what}; read ${dead.log}\n${tail(dead.log)}`);
    if (Date.now() > deadline) throw new NodeStartError(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Imports an OCI archive into a node's containerd (the `k8s.io` namespace the CRI plugin uses). */
export async function importImage(socket: string, archive: string): Promise<void> {
  try {
    await execFileAsync('ctr', ['--address', socket, '--namespace', 'k8s.io', 'images', 'import', archive], { maxBuffer: 16 << 20 });
  } catch (err) {
    throw new NodeStartError(`importing ${archive} into containerd at ${socket} failed: ${String((err as { stderr?: string }).stderr ?? err).trim()}`, {
      cause: err,
    });
  }
}

/**
 * Starts node `index`: its mount namespace, containerd (then the images are imported), the kubelet and kube-proxy,
 * each in the node's network and mount namespaces and its cgroup. Returns once the three run; the caller waits for
 * the Node to be Ready.
 */
export async function startNode(ctx: NodeStartContext, index: number): Promise<StartedNode> {
  const { names } = ctx;
  const dir = join(ctx.dir, `node-${index}`);
  const paths = nodePaths(dir, join(names.runDir, `node-${index}.mnt`));
  for (const d of [dir, paths.containerdRoot, paths.cniConfDir, paths.cniIpamDir, paths.kubeletRoot, paths.podLogs]) mkdirSync(d, { recursive: true });
  createNodeMountNamespace(paths.mountNs);
  const cgroup = names.nodeCgroup(index);
  createCgroup(`${cgroup}/daemons`);
  createCgroup(`${cgroup}/pods`);
  const server = `https://${CONTROL_PLANE_IP}:${APISERVER_PORT}`;
  const name = nodeName(index);
  writeFileSync(paths.containerdConfig, containerdToml(paths));
  writeFileSync(join(paths.cniConfDir, '10-pgha.conflist'), cniConflist(paths, index));
  writeFileSync(paths.kubeletConfig, kubeletConfig(paths, { caFile: ctx.caFile, cgroupRoot: `${cgroup}/pods`, index }));
  writeFileSync(paths.kubeletKubeconfig, kubeconfigYaml(server, ctx.caFile, ctx.kubeletToken, `system:node:${name}`), { mode: 0o600 });
  writeFileSync(paths.proxyConfig, kubeProxyConfig(paths, { hostname: name, bindAddress: nodeIp(index) }));
  writeFileSync(paths.proxyKubeconfig, kubeconfigYaml(server, ctx.caFile, ctx.proxyToken, 'system:kube-proxy'), { mode: 0o600 });

  const prefix = [...nsenterPrefix(names.nodeNetns(index), paths.mountNs), ...joinCgroupPrefix(`${cgroup}/daemons`)];
  const start = (proc: string, binary: string, args: string[]) =>
    startProcess({ name: `${name}/${proc}`, binary, args, log: join(dir, `${proc}.log`), dieWithParent: ctx.dieWithParent, prefix });

  const containerd = start('containerd', '/usr/bin/containerd', ['--config', paths.containerdConfig]);
  await waitFor(`containerd's socket ${paths.containerdSocket}`, () => existsSync(paths.containerdSocket), [containerd], 30_000);
  for (const archive of ctx.images) await importImage(paths.containerdSocket, archive);
  const kubelet = start('kubelet', ctx.binaries.kubelet, [
    `--config=${paths.kubeletConfig}`,
    `--kubeconfig=${paths.kubeletKubeconfig}`,
    `--root-dir=${paths.kubeletRoot}`,
    `--hostname-override=${name}`,
    `--node-ip=${nodeIp(index)}`,
    '--v=1',
  ]);
  const proxy = start('kube-proxy', ctx.binaries.kubeProxy, [`--config=${paths.proxyConfig}`, '--v=1']);
  return { index, name, ip: nodeIp(index), paths, processes: [containerd, kubelet, proxy] };
}
