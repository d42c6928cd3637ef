import { App, Chart, YamlOutputType } from 'cdk8s';
import { PostgresCluster } from '../constructs';
import { basicClusterChart } from './examples/basic-cluster';
import { dedicatedNodesChart } from './examples/dedicated-nodes';

/** The plain manifests in dist/: one default cluster (`pgha.k8s.yaml`) and the README's examples. */
export function buildApp(outdir = 'dist'): App {
  const app = new App({ outdir, outputFileExtension: '.k8s.yaml', yamlOutputType: YamlOutputType.FILE_PER_CHART });
  const chart = new Chart(app, 'pgha', { disableResourceNameHashes: true });
  new PostgresCluster(chart, 'pgha');
  basicClusterChart(app);
  dedicatedNodesChart(app);
  return app;
}
