import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage } from '../fixtures/agent-image';
import { RealCluster } from '../node/real-cluster';
import { DEFAULT_IMAGE } from '../../constructs/image';

/**
 * Starts one real cluster for the end-to-end run: the control plane and one node (kubelet, containerd, kube-proxy)
 * in namespaces of their own, with the agent image built by `npm run image`'s script and imported into the node.
 * Tests deploy what the toolkit generates into namespaces of their own; suites that need more nodes start a
 * cluster of their own. The daemons die with jest even if it is killed; the next run removes what they leave.
 */
export default async function globalSetup(): Promise<void> {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(__dirname, '..', '..', 'tsconfig.json')], { stdio: 'inherit' });
  // PGHA_E2E_IMAGE_ARCHIVE runs the suite against an image built elsewhere (e.g. an earlier commit, to measure a
  // fault before its fix); it must carry the name the manifests use.
  const image = process.env.PGHA_E2E_IMAGE_ARCHIVE
    ? { image: process.env.PGHA_E2E_IMAGE ?? DEFAULT_IMAGE, archive: process.env.PGHA_E2E_IMAGE_ARCHIVE }
    : buildImage();
  const cluster = await RealCluster.start({ nodes: 1, images: [image.archive] });
  (globalThis as { __pghaRealCluster?: RealCluster }).__pghaRealCluster = cluster;
  process.env.PGHA_E2E_CLUSTER = cluster.stateFile;
  process.env.PGHA_E2E_IMAGE = image.image;
  process.env.PGHA_E2E_IMAGE_ARCHIVE = image.archive;
  // Where the suites write the manifests they apply (see deploy.ts); the teardown removes it.
  process.env.PGHA_E2E_WORK_ROOT = mkdtempSync(join(tmpdir(), 'pgha-e2e-work-'));
}
