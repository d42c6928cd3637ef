// `npm run sandbox -- <command>`: a real control plane for people and scripts, running in the background.
//   up       start it (harmless when already running) and write .sandbox/kubeconfig
//   status   say whether it runs and answers /readyz; exit 0 only when it does
//   down     stop every process it started (a sandbox cluster too) and remove its state
//   cluster  a multi-member pgha cluster on the control plane: cluster up|status|down (see cluster-cli.ts)
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ControlPlane } from '../control-plane/control-plane';
import { clusterCommand, down as clusterDown, type SandboxPaths } from './cluster-cli';

/** The repository root: the nearest directory above this file with cdk8s.yaml (works from sources and build/). */
function findRepoRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'cdk8s.yaml'))) return dir;
  return process.cwd();
}
const SANDBOX = join(findRepoRoot(__dirname), '.sandbox');
const CP_DIR = join(SANDBOX, 'control-plane');
const STATE = join(CP_DIR, 'state.json');
const KUBECONFIG = join(SANDBOX, 'kubeconfig');
const PATHS: SandboxPaths = { root: findRepoRoot(__dirname), sandbox: SANDBOX, controlPlaneState: STATE, kubeconfig: KUBECONFIG };

async function ready(cp: ControlPlane): Promise<boolean> {
  const client = cp.adminClient();
  try {
    await client.request({ method: 'GET', path: '/readyz', timeoutMs: 2000 });
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

function running(): ControlPlane | undefined {
  return existsSync(STATE) ? ControlPlane.attach(STATE) : undefined;
}

async function up(): Promise<number> {
  const existing = running();
  if (existing) {
    if (existing.deadProcesses().length === 0 && (await ready(existing))) {
      console.log(`sandbox: already running at ${existing.state.server}; kubeconfig: ${KUBECONFIG}`);
      return 0;
    }
    console.log(`sandbox: found a stale sandbox (${existing.deadProcesses().join(', ') || 'not ready'}); replacing it`);
    await existing.stop();
  }
  rmSync(CP_DIR, { recursive: true, force: true });
  mkdirSync(CP_DIR, { recursive: true });
  const started = performance.now();
  const cp = await ControlPlane.start({ dir: CP_DIR, dieWithParent: false });
  copyFileSync(cp.state.kubeconfig, KUBECONFIG);
  console.log(`sandbox: control plane ready at ${cp.state.server} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(`sandbox: kubeconfig: ${KUBECONFIG}  (logs in ${CP_DIR})`);
  return 0;
}

async function status(): Promise<number> {
  const cp = running();
  if (!cp) {
    console.log('sandbox: not running');
    return 1;
  }
  const dead = cp.deadProcesses();
  const isReady = await ready(cp);
  for (const p of cp.state.processes) console.log(`  ${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${dead.includes(p.name) ? 'stopped' : 'running'}`);
  console.log(`sandbox: ${isReady && dead.length === 0 ? 'running and ready' : 'degraded'} at ${cp.state.server}; kubeconfig: ${KUBECONFIG}`);
  return isReady && dead.length === 0 ? 0 : 1;
}

async function down(): Promise<number> {
  await clusterDown(PATHS);
  const cp = running();
  if (cp) await cp.stop();
  rmSync(SANDBOX, { recursive: true, force: true });
  console.log(cp ? 'sandbox: stopped' : 'sandbox: was not running');
  return 0;
}

const COMMANDS: Record<string, () => Promise<number>> = { up, status, down };

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'cluster') return clusterCommand(argv.slice(1), PATHS, up);
  const command = COMMANDS[argv[0] ?? ''];
  if (!command) {
    console.error(`usage: npm run sandbox -- <${[...Object.keys(COMMANDS), 'cluster'].join('|')}>; got ${JSON.stringify(argv[0] ?? '')}`);
    return 2;
  }
  return command();
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`sandbox: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
