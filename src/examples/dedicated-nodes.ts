import { App, Chart, Duration } from 'cdk8s';
import { AntiAffinity, PostgresCluster, StoreMode } from '../../constructs';

// Members only on nodes labelled and tainted postgres=dedicated, never two on one node, Endpoints store mode.
export function dedicatedNodesChart(app: App): Chart {
  const chart = new Chart(app, 'billing-db', { disableResourceNameHashes: true });
  new PostgresCluster(chart, 'billing', {
    storeMode: StoreMode.ENDPOINTS,
    antiAffinity: AntiAffinity.REQUIRED,
    dedicatedNodes: { key: 'postgres', value: 'dedicated' },
    ttl: Duration.seconds(30),
    loopWait: Duration.seconds(5),
  });
  return chart;
}
