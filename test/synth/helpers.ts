import { App, Chart, Testing } from 'cdk8s';
import { PostgresCluster, type PostgresClusterProps } from '../../constructs';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: any };

/** Synthesizes one cluster in a fresh chart and returns its objects. */
export function synthCluster(props: PostgresClusterProps = {}, id = 'demo'): K8sObject[] {
  const chart = new Chart(new App(), 'test', { disableResourceNameHashes: true });
  new PostgresCluster(chart, id, props);
  return Testing.synth(chart) as K8sObject[];
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name} in ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}
