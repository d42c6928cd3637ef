import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { AgentRbac } from './agent-rbac';
import { CONFIG_FILE_NAME, renderAgentConfig } from './agent-config-file';
import { ClusterNetworkPolicy } from './cluster-network-policy';
import { ClusterServices } from './cluster-services';
import type { PostgresClusterProps } from './cluster-props';
import { resolveClusterSpec, type ClusterSpec } from './cluster-spec';
import { REPLICATION_PASSWORD_KEY, RESTAPI_PASSWORD_KEY, SUPERUSER_PASSWORD_KEY } from './credentials';
import { clientPodLabels, objectLabels, podSelector } from './labels';
import { PostgresStatefulSet } from './postgres-stateful-set';

/**
 * A highly available PostgreSQL cluster run by the pgha agent: RBAC, configuration, credentials, Services, the
 * StatefulSet, its PodDisruptionBudget and (by default) a NetworkPolicy. Props are validated here, in the
 * constructor, so a bad value fails where it is written. Objects the agent writes at run time (`<name>-leader`,
 * `-config`, `-failover`, `-sync`, the leader Endpoints' addresses) are never synthesized, so GitOps tools and the
 * agent never fight over them.
 */
export class PostgresCluster extends Construct {
  /** The cluster name (the agent's scope). */
  readonly clusterName: string;
  /** Read-write Service: always points at the current primary. */
  readonly primaryServiceName: string;
  /** Read-only Service: running replicas. */
  readonly replicasServiceName: string;
  /** Headless Service giving members stable DNS names. */
  readonly membersServiceName: string;
  /** Secret holding the superuser, replication and (with `restApiAuthentication`) REST API passwords. */
  readonly credentialsSecretName: string;
  /**
   * Labels a client Pod (in the cluster's namespace) needs for the NetworkPolicy to let it reach PostgreSQL:
   * `pgha.io/client: <name>`. Put them on your Deployment's Pod template. Harmless without `networkPolicy`.
   */
  readonly clientPodLabels: Readonly<Record<string, string>>;
  /** The NetworkPolicy's name; undefined with `networkPolicy: false`. */
  readonly networkPolicyName?: string;
  /** ServiceAccount the agent runs as. */
  readonly serviceAccountName: string;
  /** The ConfigMap holding the agent's configuration file (not one the agent owns). */
  readonly configMapName: string;
  /** The validated, defaulted props. */
  readonly spec: ClusterSpec;

  constructor(scope: Construct, id: string, props: PostgresClusterProps = {}) {
    super(scope, id);
    const spec = resolveClusterSpec(id, props);
    this.spec = spec;
    this.clusterName = spec.name;
    this.credentialsSecretName = spec.credentialsSecretName;
    this.clientPodLabels = clientPodLabels(spec);
    // `-pgha`, never `-config`: `<name>-config` is the agent's own state object.
    this.configMapName = `${spec.name}-pgha`;
    const ns = spec.namespace ? { namespace: spec.namespace } : {};

    const configText = renderAgentConfig(spec);
    const rbac = new AgentRbac(this, 'Rbac', spec);
    this.serviceAccountName = rbac.serviceAccountName;

    new ApiObject(this, 'AgentConfig', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      // No scope label: the agent lists ConfigMaps by it, and this one is ours, not its.
      metadata: { name: this.configMapName, labels: objectLabels(spec, 'config'), ...ns },
      data: { [CONFIG_FILE_NAME]: configText },
    });

    const passwords = spec.credentials.passwords;
    if (passwords) {
      new ApiObject(this, 'Credentials', {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: spec.credentialsSecretName, labels: objectLabels(spec, 'credentials'), ...ns },
        type: 'Opaque',
        stringData: {
          [SUPERUSER_PASSWORD_KEY]: passwords.superuser,
          [REPLICATION_PASSWORD_KEY]: passwords.replication,
          // resolveClusterSpec requires it exactly when authentication is on.
          ...(passwords.restApi !== undefined ? { [RESTAPI_PASSWORD_KEY]: passwords.restApi } : {}),
        },
      });
    }

    const services = new ClusterServices(this, 'Services', spec);
    this.primaryServiceName = services.primaryServiceName;
    this.replicasServiceName = services.replicasServiceName;
    this.membersServiceName = services.membersServiceName;

    new PostgresStatefulSet(this, 'Members', spec, {
      serviceAccountName: rbac.serviceAccountName,
      governingServiceName: services.membersServiceName,
      configMapName: this.configMapName,
      configText,
    });

    new ApiObject(this, 'DisruptionBudget', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: spec.name, labels: objectLabels(spec, 'database'), ...ns },
      // maxUnavailable (1 ≤ n ≤ replicas) can always be met, unlike a minAvailable equal to replicas.
      spec: { maxUnavailable: spec.maxUnavailable, selector: { matchLabels: podSelector(spec) } },
    });

    if (spec.networkPolicy) this.networkPolicyName = new ClusterNetworkPolicy(this, 'NetworkPolicy', spec).name;
  }
}
