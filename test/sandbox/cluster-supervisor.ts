// The background process behind `npm run sandbox -- cluster up`: runs a SandboxCluster (agents, simulated kubelet,
// forwarders) until SIGTERM, restarts an agent that exits (as a kubelet restarts a container), and keeps the state
// file that `cluster status` and `cluster down` read up to date. Started detached by cluster-cli.ts.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KubeApiError } from '../../agent/src/kube/kube-error';
import { ControlPlane } from '../control-plane/control-plane';
import { SandboxCluster, type SandboxClusterProps } from './cluster';
import { ServiceTargets } from './service-targets';

export interface SupervisorOptions {
  readonly controlPlaneState: string;
  readonly stateFile: string;
  readonly agentMain: string;
  readonly nodePath: string;
  readonly cluster: Omit<SandboxClusterProps, 'client' | 'server' | 'caPem' | 'agentMain' | 'nodePath' | 'workDir'>;
}

export type SupervisorPhase = 'starting' | 'running' | 'ready' | 'failed' | 'stopping';

/** A kubelet restarts a crashed container after a back-off; a fixed short one keeps the sandbox responsive. */
const RESTART_DELAY_MS = 2000;

function writeState(file: string, data: Record<string, unknown>): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(data, null, 2));
  renameSync(`${file}.tmp`, file);
}

async function main(): Promise<number> {
  const opts = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as SupervisorOptions;
  const cp = ControlPlane.attach(opts.controlPlaneState);
  const client = cp.adminClient();
  const cluster = new SandboxCluster({
    ...opts.cluster,
    client,
    server: cp.state.server,
    caPem: readFileSync(cp.state.caFile, 'utf8'),
    agentMain: opts.agentMain,
    nodePath: opts.nodePath,
    workDir: dirname(opts.stateFile),
  });
  let phase: SupervisorPhase = 'starting';
  let error: string | undefined;
  const targets = new ServiceTargets(client, opts.cluster.namespace, `${cluster.scope}-primary`);
  const save = () => writeState(opts.stateFile, { supervisorPid: process.pid, phase, error, ...cluster.state(), primaryTargets: targets.current() });
  save();
  let stopping = false;
  const done = new Promise<number>((resolve) => {
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      phase = 'stopping';
      save();
      void (async () => {
        let code = 0;
        try {
          await cluster.stop();
        } catch (err) {
          console.error(`stop: ${err instanceof Error ? err.message : String(err)}`);
          code = 1;
        }
        targets.stop();
        try {
          await client.request({ method: 'DELETE', path: `/api/v1/namespaces/${opts.cluster.namespace}` });
        } catch (err) {
          if (!(err instanceof KubeApiError && err.status === 404)) console.error(`namespace: ${err instanceof Error ? err.message : String(err)}`);
        }
        client.close();
        rmSync(opts.stateFile, { force: true });
        resolve(code);
      })();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  try {
    await cluster.start();
    phase = 'running';
    save();
  } catch (err) {
    phase = 'failed';
    error = err instanceof Error ? err.message : String(err);
    save();
    console.error(`start: ${error}`);
  }
  const restartAt = new Map<string, number>();
  const timer = setInterval(() => {
    if (stopping || phase === 'failed') return;
    void targets.refresh().then(() => {
      if (stopping) return;
      if (targets.current().length > 0) phase = 'ready';
      for (const m of cluster.members) {
        if (!cluster.hasExited(m.name)) continue;
        const at = restartAt.get(m.name) ?? Date.now() + RESTART_DELAY_MS;
        restartAt.set(m.name, at);
        if (Date.now() >= at) {
          restartAt.delete(m.name);
          console.log(`restarting ${m.name}`);
          cluster.startMember(m.name);
        }
      }
      save();
    });
  }, 1000);
  const code = await done;
  clearInterval(timer);
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);
