// The Helm chart, rendered by the real helm (built from its Go module), applied to a real kube-apiserver.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { App, Chart, Duration } from 'cdk8s';
import { PostgresCluster, type PostgresClusterProps } from '../../../constructs';
import { helmChartFiles } from '../../../src/outputs/helm-chart';
import { createTestNamespace, eventually, testControlPlane, type TestNamespace } from '../../fixtures/cluster';
import { grantControllerRoles, installPodMonitorCrd, podsSelectedBy, serverSideApply, storedNetworkPolicy, warningsOf, type Manifest } from './apply';
import { run, runStatus, toolBinary } from './tools';

const work = mkdtempSync(join(tmpdir(), 'pgha-helm-'));
const chart = join(work, 'pgha');
// helm keeps its caches and config here, not in the home directory.
const helmEnv = { HELM_CACHE_HOME: join(work, 'cache'), HELM_CONFIG_HOME: join(work, 'config'), HELM_DATA_HOME: join(work, 'data') };

function writeChart(): void {
  for (const [path, text] of Object.entries(helmChartFiles())) {
    mkdirSync(dirname(join(chart, path)), { recursive: true });
    writeFileSync(join(chart, path), text);
  }
}

/** `helm template`: the release's objects (the `helm test` Pod only when `extra` asks for it). */
function template(release: string, set: Record<string, string> = {}, extra: string[] = ['--skip-tests']): Manifest[] {
  const args = ['template', release, chart, ...Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`]), ...extra];
  return parseAllDocuments(run(toolBinary('helm'), args, helmEnv))
    .map((d) => d.toJS() as Manifest | null)
    .filter((o): o is Manifest => o !== null);
}

const byKind = (objects: Manifest[], kind: string, name?: string) =>
  objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name)) as any;

describe('Helm chart', () => {
  let admin: KubeClient;
  const namespaces: TestNamespace[] = [];
  beforeAll(async () => {
    writeChart();
    admin = testControlPlane().adminClient();
    await grantControllerRoles(admin);
  });
  afterAll(async () => {
    for (const ns of namespaces) await ns.delete();
    admin.close();
    rmSync(work, { recursive: true, force: true });
  });
  async function restricted(prefix: string): Promise<string> {
    const ns = await createTestNamespace(admin, prefix, { restricted: true });
    namespaces.push(ns);
    return ns.name;
  }

  it('passes helm lint --strict, also with every switch flipped', () => {
    run(toolBinary('helm'), ['lint', '--strict', chart], helmEnv);
    run(
      toolBinary('helm'),
      [
        'lint',
        '--strict',
        chart,
        '--set',
        'useEndpoints=true,openshift=true,storage.persistent=false,restApi.authentication.enabled=false,networkPolicy.enabled=false',
      ],
      helmEnv,
    );
  });

  it('renders the same objects as the construct by default, named after the release', () => {
    const objects = template('orders');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/orders-pgha',
        'NetworkPolicy/orders',
        'PodDisruptionBudget/orders',
        'Role/orders',
        'RoleBinding/orders',
        'Secret/orders-credentials',
        'Service/orders',
        'Service/orders-members',
        'Service/orders-replicas',
        'ServiceAccount/orders',
        'StatefulSet/orders',
      ].sort(),
    );
    expect(byKind(objects, 'Secret').stringData['superuser-password']).toMatch(/^[a-zA-Z0-9]{24}$/);
    expect(byKind(objects, 'Secret').stringData['restapi-password']).toMatch(/^[a-zA-Z0-9]{24}$/);
  });

  it('lets every value drive the output', () => {
    const objects = template('r', {
      clusterName: 'billing',
      'image.repository': 'registry.example/pgha',
      'image.tag': '2',
      replicas: '5',
      'storage.size': '20Gi',
      'storage.className': 'fast',
      'resources.requests.cpu': '1',
      'resources.requests.memory': '2Gi',
      'resources.limits.memory': '4Gi',
      roleLabel: 'pg-role',
      leaderLabelValue: 'master',
      followerLabelValue: 'standby',
      ttl: '40',
      loopWait: '5',
      retryTimeout: '15',
      'credentials.superuserPassword': 'given-su',
      'credentials.restApiPassword': 'given-api',
      'restApi.authentication.username': 'ops',
    });
    const sts = byKind(objects, 'StatefulSet', 'billing');
    const c = sts.spec.template.spec.containers[0];
    expect(sts.spec.replicas).toBe(5);
    expect(c.image).toBe('registry.example/pgha:2');
    expect(c.resources).toEqual({ requests: { cpu: '1', memory: '2Gi' }, limits: { memory: '4Gi' } });
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'fast', resources: { requests: { storage: '20Gi' } } });
    expect(byKind(objects, 'Service', 'billing').spec.selector['pg-role']).toBe('master');
    expect(byKind(objects, 'Service', 'billing-replicas').spec.selector['pg-role']).toBe('standby');
    const config = byKind(objects, 'ConfigMap', 'billing-pgha').data['pgha.yaml'];
    expect(config).toMatch(/^ttl: 40$/m);
    expect(config).toMatch(/^loop_wait: 5$/m);
    expect(config).toMatch(/^retry_timeout: 15$/m);
    expect(config).toMatch(/role_label: "pg-role"/);
    expect(byKind(objects, 'Secret').stringData['superuser-password']).toBe('given-su');
    expect(byKind(objects, 'Secret').stringData['replication-password']).toMatch(/^[a-zA-Z0-9]{24}$/);
    expect(byKind(objects, 'Secret').stringData['restapi-password']).toBe('given-api');
    expect(parse(config).restapi.authentication).toEqual({ username: 'ops' });
    expect(byKind(objects, 'NetworkPolicy', 'billing').spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'pgha', 'cluster-name': 'billing' });
    expect(byKind(objects, 'NetworkPolicy', 'billing').spec.ingress[1].from[0].podSelector.matchLabels).toEqual({ 'pgha.io/client': 'billing' });
  });

  it.each<[string, Record<string, string>, PostgresClusterProps]>([
    ['by default', {}, {}],
    [
      'with REST API authentication and the NetworkPolicy off',
      { 'restApi.authentication.enabled': 'false', 'networkPolicy.enabled': 'false' },
      { restApiAuthentication: false, networkPolicy: false },
    ],
  ])('renders %s the member file, the Pod environment, the Secret keys and the NetworkPolicy the construct does', (_name, set, props) => {
    const objects = template('r', set);
    const model = new Chart(new App(), 'c', { disableResourceNameHashes: true });
    new PostgresCluster(model, 'r', props);
    const construct = model.toJson() as Manifest[];
    const memberFile = (os: Manifest[]) => parse(byKind(os, 'ConfigMap', 'r-pgha').data['pgha.yaml']);
    const env = (os: Manifest[]) => byKind(os, 'StatefulSet').spec.template.spec.containers[0].env;
    expect(memberFile(objects)).toEqual(memberFile(construct));
    expect(env(objects)).toEqual(env(construct));
    expect(byKind(objects, 'NetworkPolicy')?.spec).toEqual(byKind(construct, 'NetworkPolicy')?.spec);
    const keys = Object.keys(byKind(objects, 'Secret').stringData).sort();
    expect(keys).toEqual(
      props.restApiAuthentication === false
        ? ['replication-password', 'superuser-password']
        : ['replication-password', 'restapi-password', 'superuser-password'],
    );
  });

  it('with existingSecret renders no Secret and mounts that one, everything else as without it', () => {
    const own = template('r', { existingSecret: 'r-own-passwords' });
    const generated = template('r');
    expect(own.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(byKind(own, 'StatefulSet').spec.template.spec.volumes).toContainEqual({
      name: 'credentials',
      secret: { secretName: 'r-own-passwords', defaultMode: 0o440 },
    });
    const rest = (os: Manifest[]) => JSON.stringify(os.filter((o) => o.kind !== 'Secret'));
    expect(rest(own)).toBe(rest(generated).replaceAll('"r-credentials"', '"r-own-passwords"'));
    expect(rest(own)).not.toContain('r-credentials');
  });

  it('fails through values.schema.json with a REST API user basic auth cannot carry', () => {
    const r = runStatus(toolBinary('helm'), ['template', 'r', chart, '--set', 'restApi.authentication.username=a:b'], helmEnv);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/username/);
  });

  it('derives the probes and grace period from the timings as the construct does', () => {
    const sts = byKind(template('r', { ttl: '12', loopWait: '2', retryTimeout: '5' }), 'StatefulSet', 'r');
    const app = new App();
    const chart = new Chart(app, 'c', { disableResourceNameHashes: true });
    new PostgresCluster(chart, 'r', { ttl: Duration.seconds(12), loopWait: Duration.seconds(2), retryTimeout: Duration.seconds(5) });
    const model = chart.toJson().find((o) => o.kind === 'StatefulSet');
    const probes = (s: any) => ({ ...s.spec.template.spec.containers[0].livenessProbe, grace: s.spec.template.spec.terminationGracePeriodSeconds });
    expect(probes(sts)).toEqual(probes(model));
  });

  it('switches store mode, platform and persistence', () => {
    const ep = template('r', { useEndpoints: 'true' });
    expect(byKind(ep, 'Service', 'r').spec.selector).toBeUndefined();
    expect(byKind(ep, 'Service', 'r-config')).toBeDefined();
    expect(byKind(ep, 'Role').rules.map((r: { resources: string[] }) => r.resources[0])).toContain('endpoints');
    const os = template('r', { openshift: 'true', 'storage.persistent': 'false' });
    const pod = byKind(os, 'StatefulSet').spec.template.spec;
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.volumes).toContainEqual({ name: 'data', emptyDir: {} });
    expect(byKind(os, 'StatefulSet').spec.volumeClaimTemplates).toBeUndefined();
  });

  it('fails with impossible timing, naming the values', () => {
    const r = runStatus(toolBinary('helm'), ['template', 'r', chart, '--set', 'ttl=20'], helmEnv);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('invalid ttl: got 20; must be at least loopWait + 2 * retryTimeout = 30');
  });

  it('fails through values.schema.json with replicas below 1 or a size that does not parse', () => {
    const replicas = runStatus(toolBinary('helm'), ['template', 'r', chart, '--set', 'replicas=0'], helmEnv);
    expect(replicas.status).not.toBe(0);
    expect(replicas.stderr).toMatch(/replicas/);
    const size = runStatus(toolBinary('helm'), ['template', 'r', chart, '--set', 'storage.size=ten'], helmEnv);
    expect(size.status).not.toBe(0);
    expect(size.stderr).toMatch(/size/);
  });

  it('puts postgresql.parameters and the synchronous settings where the construct puts them, and rolls the members when they change', () => {
    const set = {
      clusterName: 'billing',
      'postgresql.parameters.max_connections': '250',
      'postgresql.parameters.log_min_duration_statement': '2s',
      'postgresql.pgHba[0]': 'hostssl all app 198.51.100.0/24 scram-sha-256',
      'postgresql.pgHba[1]': 'host all all all reject',
      synchronousMode: 'true',
      synchronousModeStrict: 'true',
      synchronousNodeCount: '2',
    };
    const objects = template('r', set);
    const model = new Chart(new App(), 'c', { disableResourceNameHashes: true });
    new PostgresCluster(model, 'billing', {
      postgresql: {
        parameters: { max_connections: 250, log_min_duration_statement: '2s' },
        pgHba: ['hostssl all app 198.51.100.0/24 scram-sha-256', 'host all all all reject'],
      },
      synchronousMode: true,
      synchronousModeStrict: true,
      synchronousNodeCount: 2,
    });
    const construct = model.toJson().find((o: Manifest) => o.kind === 'ConfigMap' && o.metadata.name === 'billing-pgha');
    // The same configuration (Helm quotes some strings the construct leaves plain).
    expect(parse(byKind(objects, 'ConfigMap', 'billing-pgha').data['pgha.yaml'])).toEqual(parse(construct.data['pgha.yaml']));
    const digest = (os: Manifest[]) => byKind(os, 'StatefulSet').spec.template.metadata.annotations['pgha.io/config-sha256'];
    expect(digest(objects)).toMatch(/^[0-9a-f]{64}$/);
    expect(digest(template('r', set))).toBe(digest(objects));
    expect(digest(template('r', { ...set, 'postgresql.parameters.max_connections': '300' }))).not.toBe(digest(objects));
    // Off by default: no synchronous keys and no pg_hba at all, as the construct.
    expect(byKind(template('r'), 'ConfigMap').data['pgha.yaml']).not.toContain('pg_hba');
    expect(byKind(template('r'), 'ConfigMap').data['pgha.yaml']).not.toContain('synchronous');
  });

  it.each([
    [['--set', 'postgresql.parameters.port=5433'], /port/],
    [['--set', 'postgresql.parameters.Listen_Addresses=*'], /Listen_Addresses/],
    [['--set', 'postgresql.parameters.bad-name=1'], /bad-name/],
    [['--set', 'synchronousModeStrict=true'], /invalid synchronousModeStrict: got true; requires synchronousMode: true/],
    [['--set', 'synchronousMode=true,synchronousNodeCount=3'], /invalid synchronousNodeCount: got 3; must be a whole number from 1 to replicas - 1 \(2\)/],
    [
      ['--set', 'existingSecret=own,credentials.replicationPassword=x'],
      /invalid credentials.replicationPassword: set together with existingSecret "own"; the passwords come from that Secret/,
    ],
    [['--set', 'existingSecret=Own_Passwords'], /existingSecret/],
  ])('refuses %j, naming it', (args, message) => {
    const r = runStatus(toolBinary('helm'), ['template', 'r', chart, ...args], helmEnv);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('fails for a release name that cannot be a cluster name', () => {
    const r = runStatus(toolBinary('helm'), ['template', 'a'.repeat(51), chart], helmEnv);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('invalid clusterName');
  });

  it.each([
    ['defaults', {}],
    ['Endpoints mode', { useEndpoints: 'true' }],
    ['OpenShift, ephemeral', { openshift: 'true', 'storage.persistent': 'false' }],
    ['REST API authentication and NetworkPolicy off', { 'restApi.authentication.enabled': 'false', 'networkPolicy.enabled': 'false' }],
    ['existingSecret', { existingSecret: 'pg-own-passwords' }],
    [
      'Pod and Service values',
      {
        'image.pullSecrets[0]': 'regcred',
        'nodeSelector.disk': 'ssd',
        'tolerations[0].key': 'example.com/dedicated',
        'tolerations[0].operator': 'Exists',
        'tolerations[0].effect': 'NoSchedule',
        'topologySpreadConstraints[0].maxSkew': '1',
        'topologySpreadConstraints[0].topologyKey': 'topology.kubernetes.io/zone',
        'topologySpreadConstraints[0].whenUnsatisfiable': 'ScheduleAnyway',
        'topologySpreadConstraints[0].labelSelector.matchLabels.cluster-name': 'pg',
        'podAnnotations.example\\.com/team': 'db',
        'podLabels.tier': 'data',
        'extraEnv[0].name': 'TZ',
        'extraEnv[0].value': 'UTC',
        'service.type': 'NodePort',
        'service.annotations.example\\.com/exposure': 'internal',
      },
    ],
  ] as const)('renders (%s) objects that pass a server-side dry run with no warnings in a restricted namespace', async (_name, set) => {
    const ns = await restricted('tk-helm');
    const objects = template('pg', set, ['--namespace', ns]);
    expect(warningsOf(await serverSideApply(admin, ns, objects, { dryRun: true }))).toEqual({});
  });

  it.each([
    ['its own Secret', {}, 'pg-credentials', /\(kept across upgrades and on uninstall\)/],
    [
      'existingSecret',
      { existingSecret: 'pg-own' },
      'pg-own',
      /your Secret pg-own \(existingSecret; the chart made none\), which must hold the keys\nsuperuser-password, replication-password and restapi-password\./,
    ],
  ])('prints release notes (with %s) naming the primary Service, port 5432 and how to read the password', async (_name, set, secret, where) => {
    const ns = await restricted('tk-helm-notes');
    const args = ['install', 'pg', chart, '--dry-run=client', '--namespace', ns, '--kubeconfig', testControlPlane().state.kubeconfig];
    const out = run(toolBinary('helm'), [...args, ...Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`])], helmEnv);
    const notes = out.slice(out.indexOf('NOTES:'));
    expect(notes).toContain('  read-write: Service pg (always the current primary)');
    expect(notes).toContain(`  psql "host=pg.${ns}.svc port=5432 user=postgres"`);
    expect(notes).toContain(`  kubectl get secret -n ${ns} ${secret} -o jsonpath='{.data.superuser-password}' | base64 -d`);
    expect(notes).toMatch(where);
  });

  it("keeps the generated passwords, the REST API's too, on upgrade: lookup reads them back from the live Secret", async () => {
    const ns = await restricted('tk-helm-up');
    const kubeconfig = testControlPlane().state.kubeconfig;
    const first = template('pg', { replicas: '1' }, ['--skip-tests', '--namespace', ns, '--dry-run=server', '--kubeconfig', kubeconfig]);
    const installed = byKind(first, 'Secret').stringData;
    expect(installed['superuser-password']).toMatch(/^[a-zA-Z0-9]{24}$/);
    expect(installed['restapi-password']).toMatch(/^[a-zA-Z0-9]{24}$/);
    expect(warningsOf(await serverSideApply(admin, ns, first, { dryRun: false }))).toEqual({});
    const upgrade = template('pg', { replicas: '2' }, ['--skip-tests', '--namespace', ns, '--dry-run=server', '--kubeconfig', kubeconfig]);
    expect(byKind(upgrade, 'Secret').stringData).toEqual(installed);
    expect(Object.keys(installed).sort()).toEqual(['replication-password', 'restapi-password', 'superuser-password']);
    expect(byKind(upgrade, 'StatefulSet').spec.replicas).toBe(2);
    await serverSideApply(admin, ns, upgrade, { dryRun: false });
    await eventually(
      'two Pods after the upgrade',
      async () => {
        const pods = await admin.request<{ items: unknown[] }>({
          method: 'GET',
          path: `/api/v1/namespaces/${ns}/pods`,
          query: { labelSelector: 'cluster-name=pg' },
        });
        return pods.body.items.length === 2 || undefined;
      },
      60_000,
    );
    const events = await admin.request<{ items: { reason: string }[] }>({ method: 'GET', path: `/api/v1/namespaces/${ns}/events` });
    expect(events.body.items.filter((e) => e.reason === 'FailedCreate')).toEqual([]);
    // The NetworkPolicy the API server accepted selects exactly the StatefulSet's Pods.
    expect(await podsSelectedBy(admin, ns, (await storedNetworkPolicy(admin, ns, 'pg')).spec.podSelector.matchLabels)).toEqual(['pg-0', 'pg-1']);
  });
  it("renders a PodMonitor the Prometheus Operator's own CRD accepts, selecting exactly the members", async () => {
    const removeCrd = await installPodMonitorCrd(admin);
    try {
      const ns = await restricted('tk-helm-pm');
      const objects = template('pg', { 'metrics.podMonitor.enabled': 'true', 'metrics.podMonitor.interval': '15s' }, ['--skip-tests', '--namespace', ns]);
      expect(warningsOf(await serverSideApply(admin, ns, objects, { dryRun: false }))).toEqual({});
      type Monitor = Manifest & { spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Record<string, unknown>[] } };
      const monitor = byKind(objects, 'PodMonitor') as Monitor;
      const stored = await admin.request<Monitor>({ method: 'GET', path: `/apis/monitoring.coreos.com/v1/namespaces/${ns}/podmonitors/pg` });
      expect(stored.body.spec.podMetricsEndpoints).toEqual([{ port: 'api', path: '/metrics', interval: '15s' }]);
      // The CRD's schema is enforced, so the PodMonitor above passed a real check.
      const bad = { ...monitor, spec: { ...monitor.spec, podMetricsEndpoints: [{ port: 'api', interval: 'fast' }] } };
      await expect(serverSideApply(admin, ns, [bad], { dryRun: true })).rejects.toThrow(/interval/);
      await eventually(
        'the PodMonitor selects the three members the StatefulSet controller made',
        async () => ((await podsSelectedBy(admin, ns, stored.body.spec.selector.matchLabels)).join() === 'pg-0,pg-1,pg-2' ? true : undefined),
        60_000,
      );
    } finally {
      await removeCrd();
    }
  });
});
