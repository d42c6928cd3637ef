import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** A host command failed; the message names the command and what it printed. */
export class HostCommandError extends Error {
  override readonly name = 'HostCommandError';
}

/** Runs a command to completion and returns its stdout; throws HostCommandError with its stderr on failure. */
export function run(cmd: string, args: readonly string[], opts: { input?: string; allowFailure?: boolean } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    if (opts.allowFailure) return '';
    const e = err as { stderr?: string; status?: number };
    throw new HostCommandError(`${cmd} ${args.join(' ')} failed (exit ${e.status ?? '?'}): ${(e.stderr ?? String(err)).trim()}`, { cause: err });
  }
}

/** Runs a command inside a network namespace (and optionally a mount namespace); nsenter execs, keeping the PID. */
export function nsenterPrefix(netns: string, mountNs?: string): string[] {
  return ['nsenter', `--net=/run/netns/${netns}`, ...(mountNs ? [`--mount=${mountNs}`] : []), '--'];
}

export function runIn(netns: string, cmd: string, args: readonly string[], opts: { allowFailure?: boolean } = {}): string {
  return run(nsenterPrefix(netns)[0]!, [...nsenterPrefix(netns).slice(1), cmd, ...args], opts);
}

/** A missing prerequisite of the real node: one message naming it and how to get it. */
export class NodePrerequisiteError extends Error {
  override readonly name = 'NodePrerequisiteError';
}

const BINARIES: readonly [string, string][] = [
  ['ip', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['unshare', 'util-linux'],
  ['iptables', 'iptables'],
  ['conntrack', 'conntrack'],
  ['containerd', 'containerd'],
  ['containerd-shim-runc-v2', 'containerd'],
  ['ctr', 'containerd'],
  ['runc', 'runc'],
];

function onPath(binary: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => existsSync(`${d}/${binary}`));
}

/**
 * Checks what the real node needs from this machine before anything is started, so a missing piece ends with one
 * message naming it (test/setup/install-prerequisites.sh installs the packages).
 */
export function checkNodePrerequisites(): void {
  if (process.getuid?.() !== 0) throw new NodePrerequisiteError('the real node needs root (network and mount namespaces, cgroups, iptables)');
  const missing = BINARIES.filter(([b]) => !onPath(b));
  if (missing.length) {
    const pkgs = [...new Set(missing.map(([, p]) => p))];
    throw new NodePrerequisiteError(
      `missing ${missing.map(([b]) => b).join(', ')}; run test/setup/install-prerequisites.sh (Debian packages: ${pkgs.join(' ')})`,
    );
  }
  for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap']) {
    if (!existsSync(`/usr/lib/cni/${plugin}`))
      throw new NodePrerequisiteError(`CNI plugin /usr/lib/cni/${plugin} is missing; install containernetworking-plugins`);
  }
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay'))
    throw new NodePrerequisiteError("the kernel has no overlay filesystem (containerd's snapshotter needs it)");
  for (const h of ['cpu', 'memory', 'pids', 'freezer', 'cpuset', 'devices']) {
    if (!existsSync(`/sys/fs/cgroup/${h}/cgroup.procs`)) {
      throw new NodePrerequisiteError(`cgroup v1 hierarchy /sys/fs/cgroup/${h} is missing; the node is set up for cgroup v1 (cgroupfs driver)`);
    }
  }
}
