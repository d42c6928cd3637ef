// Warm start of the real cluster (test/node/): from nothing to every node Ready, with the binaries and the agent
// image already built (the import of the image into containerd is included), and the resident memory of its
// processes once it runs. `npm run bench -- node-start [runs] [nodes]` (default 5 runs, 1 node).
import { readFileSync } from 'node:fs';
import { buildImage } from '../test/fixtures/agent-image';
import { RealCluster } from '../test/node/real-cluster';
import { cgroupPids } from '../test/node/cgroups';
import { clusterNames } from '../test/node/addresses';
import { formatSummary, summarize } from './lib/stats';

function rssMb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const nodes = Number(process.argv[3] ?? 1);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a whole number of at least 1; got ${process.argv[2]}`);
  const image = buildImage();
  const samples: number[] = [];
  const memory: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const cluster = await RealCluster.start({ nodes, kind: 'bench', images: [image.archive] });
    const seconds = (performance.now() - started) / 1000;
    samples.push(seconds);
    // Every process of the cluster (control plane, node daemons, relays) is in its cgroup tree.
    const total = cgroupPids(clusterNames(cluster.state.id).cgroupRoot).reduce((sum, pid) => sum + rssMb(pid), 0);
    memory.push(total);
    console.log(`run ${i + 1}: ${nodes} node(s) Ready in ${seconds.toFixed(2)} s; cluster processes ${total.toFixed(0)} MB resident`);
    await cluster.stop();
  }
  console.log(formatSummary(`real cluster warm start to ${nodes} node(s) Ready (agent image imported)`, 's', summarize(samples)));
  console.log(formatSummary("resident memory of the cluster's processes, idle (VmRSS summed)", 'MB', summarize(memory), 0));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
