import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The built image and the podman settings to run it with (private storage, runc, cgroupfs, ulimits). */
export interface BuiltImage {
  readonly image: string;
  readonly archive: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Builds the agent image with `npm run image`'s script (slow steps cached) and returns what podman needs. */
export function buildImage(): BuiltImage {
  const script = join(__dirname, '..', '..', '..', 'agent', 'image', 'build.sh');
  const r = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20 * 60_000 });
  if (r.status !== 0) throw new Error(`agent/image/build.sh failed (${r.status ?? r.signal}):\n${r.stderr.slice(-3000)}`);
  const vars = Object.fromEntries(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return {
    image: vars.IMAGE!,
    archive: vars.ARCHIVE!,
    env: { ...process.env, CONTAINERS_CONF: vars.CONTAINERS_CONF, CONTAINERS_STORAGE_CONF: vars.CONTAINERS_STORAGE_CONF },
  };
}

export function podman(img: BuiltImage, args: readonly string[], timeoutMs = 120_000): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('podman', args, { env: img.env, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/**
 * The flags that reproduce OpenShift's restricted SCC and Pod Security `restricted`: an arbitrary UID in group 0
 * with no passwd entry added by the runtime, a read-only root filesystem with a tmpfs /tmp, every capability
 * dropped, no new privileges. The network is the host's (loopback only is used): never podman's bridge.
 */
export const RESTRICTED_RUN_FLAGS: readonly string[] = [
  '--network=host',
  '--passwd=false',
  '--read-only',
  '--tmpfs=/tmp',
  '--cap-drop=ALL',
  '--security-opt=no-new-privileges',
  '--user=1000650000:0',
];
