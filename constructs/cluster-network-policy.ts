import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { API_PORT, POSTGRES_PORT } from './agent-config-file';
import type { ClusterSpec } from './cluster-spec';
import { clientPodLabels, objectLabels, podSelector } from './labels';

const tcp = (port: number) => ({ protocol: 'TCP', port });

/**
 * Ingress to the members: PostgreSQL (replication, pg_rewind, clones) and the REST API (members read each other's
 * `GET /patroni` before a failover) from the cluster's own members; PostgreSQL from Pods in the same namespace with
 * the client label. Nothing else: no other Pod can reach the REST API, even with its password. Egress is left open
 * (the agents talk to the API server, whose address differs per cluster). Ports are numbers, which every CNI that
 * enforces NetworkPolicy understands. The kubelet's probes come from the node, which most CNIs admit regardless.
 */
export class ClusterNetworkPolicy extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, spec: ClusterSpec) {
    super(scope, id);
    this.name = spec.name;
    const members = { podSelector: { matchLabels: podSelector(spec) } };
    new ApiObject(this, 'Resource', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: spec.name, labels: objectLabels(spec, 'database'), ...(spec.namespace ? { namespace: spec.namespace } : {}) },
      spec: {
        podSelector: members.podSelector,
        policyTypes: ['Ingress'],
        ingress: [
          { from: [members], ports: [tcp(POSTGRES_PORT), tcp(API_PORT)] },
          { from: [{ podSelector: { matchLabels: clientPodLabels(spec) } }], ports: [tcp(POSTGRES_PORT)] },
        ],
      },
    });
  }
}
