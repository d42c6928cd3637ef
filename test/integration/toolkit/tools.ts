import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..', '..');

/** `build.sh --print`'s value of `key`. */
function printed(key: string): string | undefined {
  const out = execFileSync('bash', [join(REPO, 'test', 'control-plane', 'build.sh'), '--print'], { encoding: 'utf8' });
  return out
    .split('\n')
    .find((l) => l.startsWith(`${key}=`))
    ?.slice(key.length + 1);
}

/** The Prometheus Operator's PodMonitor CRD, as its release ships it (build.sh takes it from the operator's Go module). */
export function podMonitorCrd(): string {
  const path = printed('PODMONITOR_CRD') ?? '';
  if (!existsSync(path)) throw new Error(`the PodMonitor CRD is missing at ${path}; run test/control-plane/build.sh`);
  return path;
}

/** Path of a toolkit checker binary that test/control-plane/build.sh built into its cache (`helm`, `template-process`). */
export function toolBinary(name: 'helm' | 'template-process'): string {
  const dir = printed(name === 'helm' ? 'HELM_BIN_DIR' : 'TEMPLATE_BIN_DIR');
  const path = join(dir ?? '', name);
  if (!existsSync(path)) throw new Error(`${name} is missing at ${path}; run test/control-plane/build.sh`);
  return path;
}

/** Runs a tool and returns stdout; throws with its stderr when it exits non-zero. */
export function run(binary: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(binary, args, { encoding: 'utf8', cwd: REPO, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${binary} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}

/** Like `run`, but returns the exit status and both streams for tests that expect failure. */
export function runStatus(binary: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(binary, args, { encoding: 'utf8', cwd: REPO, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const repoPath = (...parts: string[]) => join(REPO, ...parts);
