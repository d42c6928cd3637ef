// `npm run sandbox -- cluster <up|status|down>`: a multi-member pgha cluster on this machine (see cluster.ts).
//   up [--members N] [--scope NAME] [--namespace NS] [--leader-label-value V]
//        starts the control plane if needed, then a background supervisor; waits until the primary Service routes
//        to a member, and prints the addresses. Running it again while the cluster runs only prints its status.
//   status   members, their PIDs, the Service addresses, and `pgha list`
//   down     stops the supervisor, every agent and PostgreSQL (by PID), and deletes the namespace
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlane } from '../control-plane/control-plane';
import { forceDeletePods, isAlive, isPostgres, postmasterPid, type SandboxClusterState } from './cluster';
import type { SupervisorOptions, SupervisorPhase } from './cluster-supervisor';

export interface SandboxPaths {
  readonly root: string;
  readonly sandbox: string;
  readonly controlPlaneState: string;
  readonly kubeconfig: string;
}

interface SupervisorState extends SandboxClusterState {
  readonly supervisorPid: number;
  readonly phase: SupervisorPhase;
  readonly error?: string;
  readonly primaryTargets: readonly string[];
}

/** How long `up` waits for the primary Service to route somewhere: bootstrap plus a replica or two. */
const READY_TIMEOUT_MS = 180_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function clusterDir(paths: SandboxPaths): string {
  return join(paths.sandbox, 'cluster');
}

function readState(paths: SandboxPaths): SupervisorState | undefined {
  try {
    return JSON.parse(readFileSync(join(clusterDir(paths), 'state.json'), 'utf8')) as SupervisorState;
  } catch {
    return undefined;
  }
}

function flag(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) return argv[i + 1];
  const inline = argv.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

function printSummary(state: SupervisorState, paths: SandboxPaths): void {
  console.log(`sandbox cluster ${state.scope} in namespace ${state.namespace} (${state.phase})`);
  for (const m of state.members) {
    console.log(`  ${m.name.padEnd(10)} postgres ${m.host}:${m.pgPort}  api http://${m.host}:${m.apiPort}  pod IP ${m.podIp}  agent pid ${m.pid ?? '-'} ${isAlive(m.pid) ? 'running' : 'stopped'}  log ${m.logFile}`);
  }
  console.log(`  primary Service   ${state.primary}   (follows the role label, as kube-proxy would)`);
  console.log(`  replicas Service  ${state.replicas}`);
  console.log(`  credentials       ${state.credentialsFile}   e.g. env $(cat ${state.credentialsFile}) psql -h ${state.primary.split(':')[0]} -p ${state.primary.split(':')[1]} postgres`);
  console.log(`  cli               node build/agent/src/main.js list --scope ${state.scope} -n ${state.namespace} --kubeconfig ${paths.kubeconfig}`);
}

async function up(argv: readonly string[], paths: SandboxPaths, ensureControlPlane: () => Promise<number>): Promise<number> {
  const existing = readState(paths);
  if (existing && isAlive(existing.supervisorPid)) {
    console.log('sandbox cluster: already running');
    printSummary(existing, paths);
    return 0;
  }
  if (existing) await down(paths);
  const cpCode = await ensureControlPlane();
  if (cpCode !== 0) return cpCode;
  const members = Number(flag(argv, '--members') ?? 3);
  if (!Number.isInteger(members) || members < 1 || members > 9) {
    console.error(`sandbox cluster: --members must be a whole number from 1 to 9, got ${JSON.stringify(flag(argv, '--members'))}`);
    return 2;
  }
  const dir = clusterDir(paths);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const options: SupervisorOptions = {
    controlPlaneState: paths.controlPlaneState,
    stateFile: join(dir, 'state.json'),
    agentMain: join(paths.root, 'build', 'agent', 'src', 'main.js'),
    nodePath: join(paths.root, 'node_modules'),
    cluster: {
      namespace: flag(argv, '--namespace') ?? 'pgha-sandbox',
      scope: flag(argv, '--scope') ?? 'demo',
      members,
      leaderLabelValue: flag(argv, '--leader-label-value') ?? 'primary',
    },
  };
  const optionsFile = join(dir, 'supervisor.json');
  writeFileSync(optionsFile, JSON.stringify(options), { mode: 0o600 });
  const log = openSync(join(dir, 'supervisor.log'), 'a');
  const child = spawn(process.execPath, [join(__dirname, 'cluster-supervisor.js'), optionsFile], { detached: true, stdio: ['ignore', log, log], cwd: paths.root });
  child.unref();
  console.log(`sandbox cluster: supervisor pid ${child.pid}; starting ${members} members (log ${join(dir, 'supervisor.log')})`);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: SupervisorPhase | undefined;
  for (;;) {
    const state = readState(paths);
    if (state && state.phase !== last) {
      last = state.phase;
      console.log(`sandbox cluster: ${state.phase}`);
    }
    if (state?.phase === 'ready') {
      printSummary(state, paths);
      return 0;
    }
    if (state?.phase === 'failed' || !isAlive(child.pid)) {
      console.error(`sandbox cluster: failed to start${state?.error ? `: ${state.error}` : ''}; see ${join(dir, 'supervisor.log')}. Run cluster down to clean up.`);
      return 1;
    }
    if (Date.now() > deadline) {
      console.error(`sandbox cluster: the primary Service has no ready member after ${READY_TIMEOUT_MS / 1000} s; members keep trying (see their logs). Run cluster down to stop.`);
      if (state) printSummary(state, paths);
      return 1;
    }
    await sleep(500);
  }
}

async function status(paths: SandboxPaths): Promise<number> {
  const state = readState(paths);
  if (!state) {
    console.log('sandbox cluster: not running');
    return 1;
  }
  const alive = isAlive(state.supervisorPid);
  printSummary(state, paths);
  console.log(`  supervisor pid ${state.supervisorPid} ${alive ? 'running' : 'stopped'}; primary Service routes to ${state.primaryTargets.join(', ') || 'nobody'}`);
  const main = join(paths.root, 'build', 'agent', 'src', 'main.js');
  if (alive && existsSync(main)) {
    const r = spawnSync(process.execPath, [main, 'list', '--scope', state.scope, '-n', state.namespace, '--kubeconfig', paths.kubeconfig], { encoding: 'utf8', timeout: 30_000 });
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
  }
  return alive ? 0 : 1;
}

/** Stops everything the cluster started, by PID; harmless when nothing runs. */
export async function down(paths: SandboxPaths): Promise<number> {
  const state = readState(paths);
  if (!state) {
    rmSync(clusterDir(paths), { recursive: true, force: true });
    return 0;
  }
  if (isAlive(state.supervisorPid)) {
    process.kill(state.supervisorPid, 'SIGTERM');
    const deadline = Date.now() + 60_000;
    while (isAlive(state.supervisorPid) && Date.now() < deadline) await sleep(200);
    if (isAlive(state.supervisorPid)) process.kill(state.supervisorPid, 'SIGKILL');
  }
  // Whatever the supervisor could not stop (it was killed, or it crashed earlier).
  for (const m of state.members) {
    if (m.pid && isAlive(m.pid) && readFileSync(`/proc/${m.pid}/cmdline`, 'utf8').includes('main.js')) process.kill(m.pid, 'SIGKILL');
    const pg = postmasterPid(m.dataDir);
    if (pg && isAlive(pg) && isPostgres(pg)) process.kill(pg, 'SIGKILL');
  }
  if (existsSync(paths.controlPlaneState)) {
    const client = ControlPlane.attach(paths.controlPlaneState).adminClient();
    try {
      await forceDeletePods(client, state.namespace);
      await client.request({ method: 'DELETE', path: `/api/v1/namespaces/${state.namespace}`, timeoutMs: 5000 });
    } catch {
      // Already gone (the supervisor deletes it), or the control plane is down: nothing left to clean there.
    } finally {
      client.close();
    }
  }
  rmSync(clusterDir(paths), { recursive: true, force: true });
  console.log(`sandbox cluster: ${state.scope} stopped`);
  return 0;
}

export async function clusterCommand(argv: readonly string[], paths: SandboxPaths, ensureControlPlane: () => Promise<number>): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'up') return up(rest, paths, ensureControlPlane);
  if (sub === 'status') return status(paths);
  if (sub === 'down') return down(paths);
  console.error(`usage: npm run sandbox -- cluster <up [--members N] [--scope NAME] [--namespace NS]|status|down>; got ${JSON.stringify(sub ?? '')}`);
  return 2;
}
