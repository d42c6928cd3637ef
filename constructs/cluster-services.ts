import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { API_PORT, API_PORT_NAME, POSTGRES_PORT, POSTGRES_PORT_NAME } from './agent-config-file';
import { StoreMode } from './cluster-props';
import type { ClusterSpec } from './cluster-spec';
import { objectLabels, podSelector } from './labels';

const PG_PORT = { name: POSTGRES_PORT_NAME, port: POSTGRES_PORT, protocol: 'TCP', targetPort: POSTGRES_PORT_NAME };

/**
 * The cluster's Services:
 * - primary (read-write): selects the lock holder by role label in ConfigMaps mode; selector-less in Endpoints mode,
 *   where the agent writes its Endpoints together with the lock;
 * - replicas (read-only): selects running replicas by role label;
 * - members: the headless governing Service of the StatefulSet (stable Pod DNS names), ready or not;
 * - `<name>-config` (Endpoints mode only): keeps the agent's selector-less `-config` Endpoints from being collected.
 * The role label appears only here, in selectors.
 */
export class ClusterServices extends Construct {
  readonly primaryServiceName: string;
  readonly replicasServiceName: string;
  readonly membersServiceName: string;

  constructor(scope: Construct, id: string, spec: ClusterSpec) {
    super(scope, id);
    const ns = spec.namespace ? { namespace: spec.namespace } : {};
    const labels = objectLabels(spec, 'database');
    const selector = podSelector(spec);
    this.primaryServiceName = spec.primaryServiceName;
    this.replicasServiceName = spec.replicasServiceName;
    this.membersServiceName = `${spec.name}-members`;

    const endpointsMode = spec.storeMode === StoreMode.ENDPOINTS;
    new ApiObject(this, 'Primary', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: spec.primaryServiceName, labels, ...ns },
      spec: endpointsMode
        ? // No targetPort: a selector-less Service's ports are matched to the Endpoints' ports by name.
          { type: 'ClusterIP', ports: [{ name: POSTGRES_PORT_NAME, port: POSTGRES_PORT, protocol: 'TCP' }] }
        : { type: 'ClusterIP', selector: { ...selector, [spec.roleLabel]: spec.leaderLabelValue }, ports: [PG_PORT] },
    });
    new ApiObject(this, 'Replicas', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: spec.replicasServiceName, labels, ...ns },
      spec: { type: 'ClusterIP', selector: { ...selector, [spec.roleLabel]: spec.followerLabelValue }, ports: [PG_PORT] },
    });
    new ApiObject(this, 'Members', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: this.membersServiceName, labels, ...ns },
      spec: {
        clusterIP: 'None',
        // Members must resolve each other while starting, before they are ready.
        publishNotReadyAddresses: true,
        selector,
        ports: [PG_PORT, { name: API_PORT_NAME, port: API_PORT, protocol: 'TCP', targetPort: API_PORT_NAME }],
      },
    });
    if (endpointsMode) {
      new ApiObject(this, 'Config', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `${spec.name}-config`, labels, ...ns },
        spec: { clusterIP: 'None' },
      });
    }
  }
}
