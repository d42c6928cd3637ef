import { rmSync } from 'node:fs';
import type { RealCluster } from '../node/real-cluster';

export default async function globalTeardown(): Promise<void> {
  const cluster = (globalThis as { __pghaRealCluster?: RealCluster }).__pghaRealCluster;
  // Keep the logs of a failed run for reading when asked; otherwise leave nothing behind.
  await cluster?.stop({ keepDir: Boolean(process.env.PGHA_KEEP_CLUSTER_DIR) });
  const workRoot = process.env.PGHA_E2E_WORK_ROOT;
  if (workRoot) rmSync(workRoot, { recursive: true, force: true });
}
