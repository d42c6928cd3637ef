import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface ControlPlaneBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubeProxy: string;
  readonly kubelet: string;
  readonly kubectl: string;
  /** The node's sandbox image as an OCI archive (`localhost/pgha-pause:1`). */
  readonly pauseArchive: string;
}

const BUILD_SCRIPT = join(__dirname, '..', '..', '..', 'test', 'control-plane', 'build.sh');

function buildScript(): string {
  // Works both from ts-jest (test/control-plane) and from compiled output (build/test/control-plane).
  const local = join(__dirname, 'build.sh');
  return existsSync(local) ? local : BUILD_SCRIPT;
}

/**
 * Returns the cached binaries, building them first when missing (that can take ten minutes or more on a cold
 * machine; progress goes to stderr). Throws with the build script's own message on failure.
 */
export function ensureBinaries(opts: { build?: boolean } = {}): ControlPlaneBinaries {
  const args = opts.build === false ? ['--print'] : [];
  const r = spawnSync('bash', [buildScript(), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    throw new Error(`control plane binaries are not available (test/control-plane/build.sh exited ${r.status ?? r.signal}); see the message above`);
  }
  const vars = Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const bins = {
    etcd: join(vars.ETCD_BIN_DIR ?? '', 'etcd'),
    kubeApiserver: join(vars.K8S_BIN_DIR ?? '', 'kube-apiserver'),
    kubeControllerManager: join(vars.K8S_BIN_DIR ?? '', 'kube-controller-manager'),
    kubeScheduler: join(vars.K8S_BIN_DIR ?? '', 'kube-scheduler'),
    kubeProxy: join(vars.K8S_BIN_DIR ?? '', 'kube-proxy'),
    kubelet: join(vars.K8S_BIN_DIR ?? '', 'kubelet'),
    kubectl: join(vars.K8S_BIN_DIR ?? '', 'kubectl'),
    pauseArchive: vars.PAUSE_ARCHIVE ?? '',
  };
  for (const [name, path] of Object.entries(bins)) {
    if (!existsSync(path)) throw new Error(`${name} is missing at ${path}; run test/control-plane/build.sh`);
  }
  return bins;
}
