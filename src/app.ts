import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Chart, YamlOutputType } from 'cdk8s';
import { PostgresCluster } from '../constructs';
import { basicClusterChart } from './examples/basic-cluster';
import { dedicatedNodesChart } from './examples/dedicated-nodes';

/**
 * The plain manifests: one default cluster (`pgha.k8s.yaml`) and the README's examples.
 *
 * @param outdir where `synth()` writes them.
 * @default - `CDK8S_OUTDIR` (what `cdk8s synth -o DIR` and `--stdout` set), else `dist`
 */
export function buildApp(outdir?: string): App {
  const app = new App({ outdir, outputFileExtension: '.k8s.yaml', yamlOutputType: YamlOutputType.FILE_PER_CHART });
  const chart = new Chart(app, 'pgha', { disableResourceNameHashes: true });
  new PostgresCluster(chart, 'pgha');
  basicClusterChart(app);
  dedicatedNodesChart(app);
  return app;
}

/**
 * Writes the app's manifests, each file opening with a document marker. `cdk8s synth --stdout` prints the files one
 * after another (cdk8s-cli issue 943): without the marker the last object of one file and the first of the next would
 * read as one.
 */
export function synthManifests(app: App): void {
  app.synth();
  for (const file of readdirSync(app.outdir).filter((f) => f.endsWith(app.outputFileExtension))) {
    const path = join(app.outdir, file);
    writeFileSync(path, `---\n${readFileSync(path, 'utf8')}`);
  }
}
