import { App, Chart, Size } from 'cdk8s';
import { ClusterCredentials, PostgresCluster } from '../../constructs';

// A three-member cluster with 20 GiB volumes; the passwords come from a Secret you create (or sync) yourself.
export function basicClusterChart(app: App): Chart {
  const chart = new Chart(app, 'orders-db', { disableResourceNameHashes: true });
  new PostgresCluster(chart, 'orders', {
    storageSize: Size.gibibytes(20),
    credentials: ClusterCredentials.fromSecret('orders-db-passwords'),
  });
  return chart;
}
