/**
 * The Kubernetes permissions the agent uses, per store mode. Deployment tooling renders its Role from this list,
 * so the manifests grant exactly what the code calls. Keep it in step with every request the agent makes.
 */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

/** Namespaced rules for the cluster's own namespace. */
export function agentRoleRules(mode: { useEndpoints: boolean }): PolicyRule[] {
  const pods: PolicyRule = { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'patch'] };
  if (mode.useEndpoints) {
    return [
      { apiGroups: [''], resources: ['endpoints'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
      // The headless `<scope>-config` Service keeps the selector-less Endpoints from being garbage-collected.
      { apiGroups: [''], resources: ['services'], verbs: ['create'] },
      pods,
    ];
  }
  return [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'patch'] }, pods];
}

/** Cluster-scoped rule needed only with `bypass_api_service`: read the API server addresses. */
export const BYPASS_CLUSTER_RULE: PolicyRule = { apiGroups: [''], resources: ['endpoints'], verbs: ['get'], resourceNames: ['kubernetes'] };
