import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { compiledScript, REPO_ROOT } from '../../node/compiled';
import { patronictlConfig, type PatronictlResult, type PatronictlTarget } from '../../fixtures/patronictl';
import type { RealCluster } from '../../node/real-cluster';
import { dirname, join } from 'node:path';
import { rmSync } from 'node:fs';

/**
 * Client tools run from inside the cluster's network (the control-plane namespace), as from a workstation on the
 * cluster network or a Pod: they reach the apiserver and every member's REST API at its Pod address.
 */
export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runInside(cluster: RealCluster, command: readonly string[], env: NodeJS.ProcessEnv, input?: string): ToolResult {
  const argv = cluster.inClusterNetwork(command);
  const r = spawnSync(argv[0]!, argv.slice(1), { env, input, encoding: 'utf8', timeout: 180_000 });
  if (r.error) throw new Error(`${command[0]} could not run: ${r.error.message}`, { cause: r.error });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The `pgha` CLI (the compiled agent binary) with only PATH, NODE_PATH, KUBECONFIG and `env`. */
export function pghaInCluster(cluster: RealCluster, args: readonly string[], env: NodeJS.ProcessEnv = {}, input?: string): ToolResult {
  const base = { PATH: process.env.PATH, NODE_PATH: join(REPO_ROOT, 'node_modules'), KUBECONFIG: cluster.state.insideKubeconfig };
  return runInside(cluster, [process.execPath, compiledScript('agent/src/main.ts'), ...args], { ...base, ...env }, input);
}

/** Debian's patronictl (Patroni 3.0.2) pointed at a pgha cluster, as a Patroni user runs it. */
export function patronictlInCluster(
  cluster: RealCluster,
  target: Omit<PatronictlTarget, 'kubeconfig' | 'context'>,
  args: readonly string[],
  input?: string,
): PatronictlResult {
  const config = patronictlConfig({ ...target, kubeconfig: cluster.state.insideKubeconfig, context: 'pgha-test' });
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', KUBECONFIG: cluster.state.insideKubeconfig, HOME: tmpdir() };
  try {
    const r = runInside(cluster, ['/usr/bin/patronictl', '-c', config, ...args], env, input);
    return { status: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dirname(config), { recursive: true, force: true });
  }
}
