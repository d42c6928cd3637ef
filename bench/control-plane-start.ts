// Warm start of the test control plane: from spawning etcd to every kube-apiserver answering /readyz, with the
// binaries already cached. `npm run bench -- control-plane-start [runs]` (default 5).
import { rmSync } from 'node:fs';
import { ensureBinaries } from '../test/control-plane/binaries';
import { ControlPlane } from '../test/control-plane/control-plane';
import { formatSummary, summarize } from './lib/stats';

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a whole number of at least 1; got ${process.argv[2]}`);
  const binaries = ensureBinaries();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const cp = await ControlPlane.start({ controllerManager: false }, binaries);
    const seconds = (performance.now() - started) / 1000;
    samples.push(seconds);
    console.log(`run ${i + 1}: ready in ${seconds.toFixed(2)} s`);
    await cp.stop();
    rmSync(cp.state.dir, { recursive: true, force: true });
  }
  console.log(formatSummary('control plane warm start to /readyz', 's', summarize(samples)));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
