import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { run } from './host';

/**
 * Private mounts for the real node. Each node's daemons (containerd, kubelet, kube-proxy) share one mount namespace
 * of their own, so the kubelet's Secret and volume mounts are visible to containerd and invisible to the host, and
 * the paths containerd 1.6 hard-codes (/run/containerd for shim sockets and runc state) and libcni's cache
 * (/var/lib/cni) are tmpfs mounts inside it. `ip netns exec` would give every process a mount namespace of its own,
 * so the daemons are started with nsenter instead.
 */

function mounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path);
}

/** Makes `dir` a private mount of its own, so namespace files can be bound under it. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (!mounted(dir)) {
    run('mount', ['--bind', dir, dir]);
    run('mount', ['--make-private', dir]);
  }
}

/** Creates a mount namespace bound to `file` (under a private dir) with the node's tmpfs mounts and shared propagation. */
export function createNodeMountNamespace(file: string): void {
  if (!existsSync(file)) writeFileSync(file, '');
  if (!mounted(file)) run('unshare', [`--mount=${file}`, '--propagation', 'private', 'true']);
  for (const dir of ['/run/containerd', '/var/lib/cni']) mkdirSync(dir, { recursive: true });
  const script = [
    // Mounts made by the kubelet inside must reach containerd's containers: shared within this namespace only.
    'mount --make-rshared /',
    'mountpoint -q /run/containerd || mount -t tmpfs -o mode=0711 pgha-containerd /run/containerd',
    'mountpoint -q /var/lib/cni || mount -t tmpfs -o mode=0755 pgha-cni /var/lib/cni',
  ].join(' && ');
  run('nsenter', [`--mount=${file}`, '--', 'sh', '-c', script]);
}

/** Releases a mount namespace (it ends, with its mounts, once no process is left in it). */
export function releaseMount(path: string): void {
  if (mounted(path)) run('umount', ['--lazy', path], { allowFailure: true });
}
