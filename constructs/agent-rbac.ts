import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { agentRoleRules, BYPASS_CLUSTER_RULE, type PolicyRule } from '../agent/src/kube/rbac-rules';
import { StoreMode } from './cluster-props';
import type { ClusterSpec } from './cluster-spec';
import { objectLabels } from './labels';

function rule(r: PolicyRule): Record<string, unknown> {
  return { apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs], ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}) };
}

/**
 * The agent's identity: a ServiceAccount, a Role with exactly the rules the agent's code declares for the store
 * mode (agent/src/kube/rbac-rules.ts), its RoleBinding, and, only with `bypassApiService`, a ClusterRole and binding
 * to read the `default/kubernetes` Endpoints. Nothing here can read Secrets.
 */
export class AgentRbac extends Construct {
  /** Name of the ServiceAccount the Pods run as. */
  readonly serviceAccountName: string;

  constructor(scope: Construct, id: string, spec: ClusterSpec) {
    super(scope, id);
    const labels = objectLabels(spec, 'rbac');
    const meta = (name: string) => ({ name, labels, ...(spec.namespace ? { namespace: spec.namespace } : {}) });
    this.serviceAccountName = spec.name;

    new ApiObject(this, 'ServiceAccount', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(spec.name) });
    new ApiObject(this, 'Role', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(spec.name),
      rules: agentRoleRules({ useEndpoints: spec.storeMode === StoreMode.ENDPOINTS }).map(rule),
    });
    const subject = { kind: 'ServiceAccount', name: spec.name, ...(spec.namespace ? { namespace: spec.namespace } : {}) };
    new ApiObject(this, 'RoleBinding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(spec.name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: spec.name },
      subjects: [subject],
    });

    if (spec.bypassApiService && spec.namespace) {
      // Cluster-scoped names are shared by every namespace, so they carry the namespace.
      const clusterName = `pgha-${spec.namespace}-${spec.name}-api-endpoints`;
      new ApiObject(this, 'ClusterRole', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: clusterName, labels },
        rules: [rule(BYPASS_CLUSTER_RULE)],
      });
      new ApiObject(this, 'ClusterRoleBinding', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: clusterName, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterName },
        subjects: [{ ...subject, namespace: spec.namespace }],
      });
    }
  }
}
