// `npm run sandbox -- <command>`: a real Kubernetes cluster on this machine for people and scripts, in the
// background (test/node/: control plane, nodes with kubelet, containerd and kube-proxy, in namespaces of their own).
//   up [--nodes N]   start it (harmless when already running) and write .sandbox/kubeconfig
//   status           whether every daemon runs and the apiserver answers; exit 0 only when it does
//   down             stop everything it started (a pgha cluster on it too) and remove its state
//   cluster          a pgha cluster deployed on it from one of the outputs: cluster up|status|down (cluster-cli.ts)
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MAX_NODES } from '../node/addresses';
import { RealCluster } from '../node/real-cluster';
import { clusterCommand, type SandboxPaths } from './cluster-cli';
import { buildImage } from '../fixtures/agent-image';
import { removeDeployFiles } from '../e2e/support/deploy';

/** The repository root: the nearest directory above this file with cdk8s.yaml (works from sources and build/). */
function findRepoRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'cdk8s.yaml'))) return dir;
  return process.cwd();
}
const ROOT = findRepoRoot(__dirname);
const SANDBOX = join(ROOT, '.sandbox');
const PATHS: SandboxPaths = {
  root: ROOT,
  sandbox: SANDBOX,
  nodeDir: join(SANDBOX, 'node'),
  clusterState: join(SANDBOX, 'node', 'cluster.json'),
  kubeconfig: join(SANDBOX, 'kubeconfig'),
};

export function flag(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

function attached(): RealCluster | undefined {
  return existsSync(PATHS.clusterState) ? RealCluster.attach(PATHS.clusterState) : undefined;
}

/** Starts the sandbox cluster unless a healthy one runs; returns it. */
export async function ensureUp(argv: readonly string[] = []): Promise<RealCluster> {
  const nodes = Number(flag(argv, '--nodes') ?? 1);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES)
    throw new Error(`--nodes must be a whole number from 1 to ${MAX_NODES}; got ${JSON.stringify(flag(argv, '--nodes'))}`);
  const existing = attached();
  if (existing) {
    const h = await existing.healthy();
    if (h.ok) {
      if (existing.state.nodes.length !== nodes && flag(argv, '--nodes') !== undefined) {
        console.log(`sandbox: already running with ${existing.state.nodes.length} node(s); run down first to change --nodes`);
      }
      return existing;
    }
    console.log(`sandbox: found a broken sandbox (${h.dead.join(', ')}); replacing it`);
    await existing.stop();
  }
  rmSync(PATHS.nodeDir, { recursive: true, force: true });
  mkdirSync(PATHS.nodeDir, { recursive: true });
  const started = performance.now();
  console.log('sandbox: building the agent image (cached) and starting the cluster');
  const image = buildImage();
  const cluster = await RealCluster.start({ nodes, kind: 'sandbox', dieWithParent: false, dir: PATHS.nodeDir, images: [image.archive] });
  copyFileSync(cluster.state.kubeconfig, PATHS.kubeconfig);
  console.log(`sandbox: ${nodes} node(s) Ready in ${((performance.now() - started) / 1000).toFixed(1)} s; apiserver ${cluster.state.server}`);
  console.log(`sandbox: kubeconfig ${PATHS.kubeconfig} (kubectl: ${cluster.state.kubectl}); logs in ${PATHS.nodeDir}`);
  return cluster;
}

async function up(argv: readonly string[]): Promise<number> {
  await ensureUp(argv);
  return 0;
}

async function status(): Promise<number> {
  const cluster = attached();
  if (!cluster) {
    console.log('sandbox: not running');
    return 1;
  }
  const h = await cluster.healthy();
  for (const n of cluster.state.nodes) console.log(`  ${n.name.padEnd(8)} ${n.ip}`);
  if (h.dead.length) console.log(`  not running: ${h.dead.join(', ')}`);
  console.log(`sandbox: ${h.ok ? 'running and ready' : 'degraded'} at ${cluster.state.server}; kubeconfig ${PATHS.kubeconfig}`);
  return h.ok ? 0 : 1;
}

async function down(): Promise<number> {
  const cluster = attached();
  if (cluster) await cluster.stop();
  rmSync(SANDBOX, { recursive: true, force: true });
  console.log(cluster ? 'sandbox: stopped; nothing it made is left' : 'sandbox: was not running');
  return 0;
}

const COMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = { up, status, down };

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'cluster') return clusterCommand(argv.slice(1), PATHS, ensureUp);
  const command = COMMANDS[argv[0] ?? ''];
  if (!command) {
    console.error(`usage: npm run sandbox -- <${[...Object.keys(COMMANDS), 'cluster'].join('|')}>; got ${JSON.stringify(argv[0] ?? '')}`);
    return 2;
  }
  return command(argv.slice(1));
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      removeDeployFiles();
      process.exit(code);
    },
    (err: unknown) => {
      console.error(`sandbox: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
