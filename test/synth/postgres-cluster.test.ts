import { parse } from 'yaml';
import { loadAgentConfig } from '../../agent/src/config/agent-config';
import { agentRoleRules, BYPASS_CLUSTER_RULE } from '../../agent/src/kube/rbac-rules';
import { AntiAffinity, ClusterCredentials, DEFAULT_IMAGE, Persistence, Platform, StoreMode } from '../../constructs';
import { find, synthCluster } from './helpers';

const AGENT_OWNED = ['demo-leader', 'demo-config', 'demo-failover', 'demo-sync'];
/** What a member's Pod gives the agent besides the file (password files as test paths). */
const POD_ENV = {
  PATRONI_NAME: 'demo-0',
  PATRONI_KUBERNETES_POD_IP: '192.0.2.7',
  PATRONI_SUPERUSER_PASSWORD_FILE: '/s',
  PATRONI_REPLICATION_PASSWORD_FILE: '/r',
  PATRONI_RESTAPI_PASSWORD_FILE: '/a',
};

describe('PostgresCluster (ConfigMaps mode, defaults)', () => {
  const objects = synthCluster();
  const sts = find(objects, 'StatefulSet', 'demo');
  const pod = sts.spec.template.spec;
  const container = pod.containers[0];

  it('synthesizes exactly the expected objects with stable names', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/demo-pgha',
        'NetworkPolicy/demo',
        'PodDisruptionBudget/demo',
        'Role/demo',
        'RoleBinding/demo',
        'Service/demo',
        'Service/demo-members',
        'Service/demo-replicas',
        'ServiceAccount/demo',
        'StatefulSet/demo',
      ].sort(),
    );
  });

  it('never synthesizes an object the agent owns, nor a Secret by default', () => {
    for (const o of objects) {
      expect(AGENT_OWNED).not.toContain(o.metadata.name);
      expect(o.kind).not.toBe('Endpoints');
      expect(o.kind).not.toBe('Secret');
    }
  });

  it('selects Pods with the minimal scope selector, and the role label only in Service selectors', () => {
    const selector = { 'app.kubernetes.io/name': 'pgha', 'cluster-name': 'demo' };
    expect(sts.spec.selector.matchLabels).toEqual(selector);
    expect(sts.spec.template.metadata.labels).toMatchObject({ ...selector, 'app.kubernetes.io/instance': 'demo' });
    expect(sts.spec.template.metadata.labels.role).toBeUndefined();
    expect(find(objects, 'Service', 'demo').spec.selector).toEqual({ ...selector, role: 'primary' });
    expect(find(objects, 'Service', 'demo-replicas').spec.selector).toEqual({ ...selector, role: 'replica' });
    expect(find(objects, 'Service', 'demo-members').spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, selector });
    expect(find(objects, 'PodDisruptionBudget', 'demo').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: selector } });
    expect(sts.spec.serviceName).toBe('demo-members');
  });

  it('keeps the scope label off every object but the Pods, so the agent never lists ours as its own', () => {
    for (const o of objects) expect(o.metadata.labels?.['cluster-name']).toBeUndefined();
  });

  it("grants the Role exactly the agent's rules for ConfigMaps mode and binds it to the ServiceAccount", () => {
    expect(find(objects, 'Role', 'demo').rules).toEqual(agentRoleRules({ useEndpoints: false }));
    expect(find(objects, 'RoleBinding', 'demo')).toMatchObject({
      roleRef: { kind: 'Role', name: 'demo' },
      subjects: [{ kind: 'ServiceAccount', name: 'demo' }],
    });
    expect(pod.serviceAccountName).toBe('demo');
    expect(JSON.stringify(find(objects, 'Role', 'demo'))).not.toContain('secrets');
  });

  it('passes Pod Security restricted: non-root, no escalation, all capabilities dropped, RuntimeDefault seccomp', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 26, fsGroup: 26, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.volumes.find((v: any) => v.name === 'tmp')).toEqual({ name: 'tmp', emptyDir: {} });
    expect(pod.hostNetwork).toBeUndefined();
  });

  it("probes the agent's REST API for readiness and liveness", () => {
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readiness', port: 'api', scheme: 'HTTP' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/liveness', port: 'api', scheme: 'HTTP' });
    expect(container.ports).toEqual([
      { name: 'postgresql', containerPort: 5432, protocol: 'TCP' },
      { name: 'api', containerPort: 8008, protocol: 'TCP' },
    ]);
  });

  it('runs the agent image with the downward-API environment and passwords only as files', () => {
    expect(container.image).toBe(DEFAULT_IMAGE);
    // args, not command: the image's entrypoint (tini, the arbitrary-UID passwd entry) must run.
    expect(container.command).toBeUndefined();
    expect(container.args).toEqual(['agent', '--config', '/etc/pgha/pgha.yaml']);
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]));
    expect(env).toEqual({
      PATRONI_NAME: 'metadata.name',
      PATRONI_KUBERNETES_NAMESPACE: 'metadata.namespace',
      PATRONI_KUBERNETES_POD_IP: 'status.podIP',
      PATRONI_SUPERUSER_PASSWORD_FILE: '/etc/pgha-credentials/superuser-password',
      PATRONI_REPLICATION_PASSWORD_FILE: '/etc/pgha-credentials/replication-password',
      PATRONI_RESTAPI_PASSWORD_FILE: '/etc/pgha-credentials/restapi-password',
      PATRONICTL_CONFIG_FILE: '/etc/pgha/pgha.yaml',
    });
    // No environment variable carries a literal value anywhere but these paths: no password, no password env.
    expect(container.env.filter((e: any) => e.value !== undefined && !/^\/etc\/pgha(-credentials)?\//.test(e.value))).toEqual([]);
    expect(container.env.map((e: any) => e.name)).not.toContain('PATRONI_RESTAPI_PASSWORD');
    expect(pod.volumes.find((v: any) => v.name === 'credentials').secret.secretName).toBe('demo-credentials');
  });

  it("gives Pods a grace period longer than the agent's shutdown deadline", () => {
    const config = parse(find(objects, 'ConfigMap', 'demo-pgha').data['pgha.yaml']) as { shutdown_timeout: number; retry_timeout: number };
    // The agent stops PostgreSQL within shutdown_timeout and then releases the lock within retry_timeout.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(config.shutdown_timeout + config.retry_timeout);
  });

  it('ships a configuration file the agent itself loads, as each Pod would with its environment', () => {
    const cm = find(objects, 'ConfigMap', 'demo-pgha');
    const files: Record<string, string> = { '/s': 'su', '/r': 'repl', '/a': 'api-pw' };
    const config = loadAgentConfig({ yaml: cm.data['pgha.yaml'], env: { ...POD_ENV, PATRONI_NAME: 'demo-1' } }, (p) => files[p]!);
    expect(config).toMatchObject({ scope: 'demo', name: 'demo-1', ttl: 30, loopWait: 10, retryTimeout: 10 });
    // The REST API needs basic auth: the user from the file, the password from the mounted Secret's file.
    expect(config.restapi.authentication).toEqual({ username: 'pgha', password: 'api-pw', passwordFile: '/a' });
    expect(config.kubernetes).toMatchObject({ useEndpoints: false, labels: { 'app.kubernetes.io/name': 'pgha' }, scopeLabel: 'cluster-name' });
    expect(config.postgresql.dataDir).toBe('/var/lib/pgha/data');
    expect(cm.data['pgha.yaml']).not.toMatch(/password/);
  });

  it('claims persistent storage per member', () => {
    expect(sts.spec.volumeClaimTemplates).toEqual([
      expect.objectContaining({
        metadata: expect.objectContaining({ name: 'data' }),
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
      }),
    ]);
    expect(pod.volumes.find((v: any) => v.name === 'data')).toBeUndefined();
  });

  it('spreads members over nodes by default', () => {
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
  });
});

describe('PostgresCluster options', () => {
  it('in Endpoints mode, makes the primary Service selector-less, adds <name>-config and grants the Endpoints rules', () => {
    const objects = synthCluster({ storeMode: StoreMode.ENDPOINTS });
    expect(find(objects, 'Service', 'demo').spec.selector).toBeUndefined();
    expect(find(objects, 'Service', 'demo').spec.ports).toEqual([{ name: 'postgresql', port: 5432, protocol: 'TCP' }]);
    expect(find(objects, 'Service', 'demo-config').spec).toEqual({ clusterIP: 'None' });
    expect(find(objects, 'Role', 'demo').rules).toEqual(agentRoleRules({ useEndpoints: true }));
    expect(objects.some((o) => o.kind === 'Endpoints')).toBe(false);
    expect(parse(find(objects, 'ConfigMap', 'demo-pgha').data['pgha.yaml']).kubernetes.use_endpoints).toBe(true);
  });

  it('adds the ClusterRole for the kubernetes Endpoints only with bypassApiService', () => {
    expect(synthCluster().some((o) => o.kind === 'ClusterRole')).toBe(false);
    const objects = synthCluster({ bypassApiService: true, namespace: 'db' });
    const cr = objects.find((o) => o.kind === 'ClusterRole')!;
    expect(cr.rules).toEqual([BYPASS_CLUSTER_RULE]);
    expect(objects.find((o) => o.kind === 'ClusterRoleBinding')).toMatchObject({
      roleRef: { name: cr.metadata.name },
      subjects: [{ kind: 'ServiceAccount', name: 'demo', namespace: 'db' }],
    });
  });

  it('sets no runAsUser or fsGroup on OpenShift, leaving them to the SCC', () => {
    const pod = find(synthCluster({ platform: Platform.OPENSHIFT }), 'StatefulSet', 'demo').spec.template.spec;
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('uses an emptyDir for ephemeral storage', () => {
    const sts = find(synthCluster({ persistence: Persistence.EPHEMERAL }), 'StatefulSet', 'demo');
    expect(sts.spec.volumeClaimTemplates).toBeUndefined();
    expect(sts.spec.template.spec.volumes).toContainEqual({ name: 'data', emptyDir: {} });
  });

  it("synthesizes the credentials Secret only from given passwords, with the REST API's while authentication is on", () => {
    const objects = synthCluster({ credentials: ClusterCredentials.fromPasswords({ superuser: 'a', replication: 'b', restApi: 'c' }) });
    expect(find(objects, 'Secret', 'demo-credentials').stringData).toEqual({ 'superuser-password': 'a', 'replication-password': 'b', 'restapi-password': 'c' });
    const open = synthCluster({ restApiAuthentication: false, credentials: ClusterCredentials.fromPasswords({ superuser: 'a', replication: 'b' }) });
    expect(find(open, 'Secret', 'demo-credentials').stringData).toEqual({ 'superuser-password': 'a', 'replication-password': 'b' });
    const ref = synthCluster({ credentials: ClusterCredentials.fromSecret('mine') });
    expect(find(ref, 'StatefulSet', 'demo').spec.template.spec.volumes.find((v: any) => v.name === 'credentials').secret.secretName).toBe('mine');
  });

  it('tolerates and requires dedicated nodes, and can require anti-affinity', () => {
    const pod = find(synthCluster({ dedicatedNodes: { key: 'postgres', value: 'dedicated' }, antiAffinity: AntiAffinity.REQUIRED }), 'StatefulSet', 'demo').spec
      .template.spec;
    expect(pod.tolerations).toEqual([{ key: 'postgres', operator: 'Equal', value: 'dedicated', effect: 'NoSchedule' }]);
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions).toEqual([
      { key: 'postgres', operator: 'In', values: ['dedicated'] },
    ]);
    expect(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
  });

  it('puts user labels on metadata only, never on selectors', () => {
    const objects = synthCluster({ labels: { team: 'payments' } });
    const sts = find(objects, 'StatefulSet', 'demo');
    expect(sts.metadata.labels?.team).toBe('payments');
    expect(sts.spec.selector.matchLabels.team).toBeUndefined();
    expect(find(objects, 'Service', 'demo').spec.selector.team).toBeUndefined();
  });

  it('writes PostgreSQL parameters into the member configuration and synchronous mode into bootstrap.dcs, as the agent loads them', () => {
    const objects = synthCluster({
      postgresql: { parameters: { Max_Connections: 250, log_connections: true } },
      synchronousMode: true,
      synchronousNodeCount: 2,
    });
    const text = find(objects, 'ConfigMap', 'demo-pgha').data['pgha.yaml'];
    const config = loadAgentConfig({ yaml: text, env: POD_ENV }, () => 'pw');
    expect(config.postgresql.parameters).toEqual({ max_connections: 250, log_connections: true });
    expect(parse(text).bootstrap.dcs).toEqual({
      ttl: 30,
      loop_wait: 10,
      retry_timeout: 10,
      synchronous_mode: true,
      synchronous_mode_strict: false,
      synchronous_node_count: 2,
    });
  });

  it('writes pgHba into the member configuration as postgresql.pg_hba, which the agent loads', () => {
    const lines = ['hostssl all app 198.51.100.0/24 scram-sha-256', 'host all all all reject'];
    const text = find(synthCluster({ postgresql: { pgHba: lines } }), 'ConfigMap', 'demo-pgha').data['pgha.yaml'];
    const env = {
      PATRONI_NAME: 'demo-0',
      PATRONI_KUBERNETES_POD_IP: '192.0.2.7',
      PATRONI_SUPERUSER_PASSWORD_FILE: '/s',
      PATRONI_REPLICATION_PASSWORD_FILE: '/r',
      PATRONI_RESTAPI_PASSWORD_FILE: '/a',
    };
    expect(loadAgentConfig({ yaml: text, env }, () => 'pw').postgresql.pgHba).toEqual(lines);
    expect(find(synthCluster(), 'ConfigMap', 'demo-pgha').data['pgha.yaml']).not.toContain('pg_hba');
  });

  it('rolls the members when their configuration file changes, and only then', () => {
    const digest = (objects: ReturnType<typeof synthCluster>) =>
      find(objects, 'StatefulSet', 'demo').spec.template.metadata.annotations['pgha.io/config-sha256'];
    expect(digest(synthCluster())).toMatch(/^[0-9a-f]{64}$/);
    expect(digest(synthCluster({ replicas: 5 }))).toBe(digest(synthCluster()));
    expect(digest(synthCluster({ postgresql: { parameters: { work_mem: '8MB' } } }))).not.toBe(digest(synthCluster()));
  });

  it('follows custom role label values in Service selectors and in the agent configuration', () => {
    const objects = synthCluster({ roleLabel: 'pg-role', leaderLabelValue: 'master', followerLabelValue: 'standby' });
    expect(find(objects, 'Service', 'demo').spec.selector['pg-role']).toBe('master');
    expect(find(objects, 'Service', 'demo-replicas').spec.selector['pg-role']).toBe('standby');
    expect(parse(find(objects, 'ConfigMap', 'demo-pgha').data['pgha.yaml']).kubernetes).toMatchObject({ role_label: 'pg-role', leader_label_value: 'master' });
  });
});
