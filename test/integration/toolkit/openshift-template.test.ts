// The committed OpenShift Templates, processed by OpenShift's own processor (library-go templateprocessing), then
// applied to a real kube-apiserver in a namespace that enforces Pod Security `restricted`.
import { parse } from 'yaml';
import { loadAgentConfig } from '../../../agent/src/config/agent-config';
import { eventually } from '../../fixtures/cluster';
import { podsSelectedBy, serverSideApply, storedNetworkPolicy, warningsOf, type Manifest, toolkitSuite } from './apply';
import { repoPath, run, runStatus, toolBinary } from './tools';

function processTemplate(file: string, params: Record<string, string>): Manifest[] {
  const args = ['-f', repoPath('templates', file), ...Object.entries(params).flatMap(([k, v]) => ['-p', `${k}=${v}`])];
  return (JSON.parse(run(toolBinary('template-process'), args)) as { items: Manifest[] }).items;
}

describe.each(['pgha-ephemeral.yaml', 'pgha-persistent.yaml'])('OpenShift Template %s', (file) => {
  const suite = toolkitSuite();

  it('processes with defaults: generated passwords, every parameter substituted, no namespace', () => {
    const a = processTemplate(file, {});
    const b = processTemplate(file, {});
    const secret = (items: Manifest[]) => items.find((o) => o.kind === 'Secret') as unknown as { stringData: Record<string, string> };
    expect(secret(a).stringData['superuser-password']).toMatch(/^[a-zA-Z0-9]{24}$/);
    expect(secret(a).stringData['replication-password']).toMatch(/^[a-zA-Z0-9]{24}$/);
    expect(secret(a).stringData['restapi-password']).toMatch(/^[a-zA-Z0-9]{24}$/);
    expect(secret(a).stringData['restapi-password']).not.toBe(secret(b).stringData['restapi-password']);
    expect(secret(a).stringData['superuser-password']).not.toBe(secret(b).stringData['superuser-password']);
    const text = JSON.stringify(a);
    expect(text).not.toContain('${');
    expect(a.every((o) => o.metadata.namespace === undefined)).toBe(true);
    const sts = a.find((o) => o.kind === 'StatefulSet') as any;
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.template.spec.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('takes user values as oc new-app -p does, numbers as numbers', () => {
    const items = processTemplate(file, {
      CLUSTER_NAME: 'orders',
      REPLICAS: '2',
      SUPERUSER_PASSWORD: 'given-one',
      RESTAPI_PASSWORD: 'given-api',
      IMAGE: 'registry.example/pgha:1',
    });
    const sts = items.find((o) => o.kind === 'StatefulSet') as any;
    expect(sts.metadata.name).toBe('orders');
    expect(sts.spec.replicas).toBe(2);
    expect(sts.spec.template.spec.containers[0].image).toBe('registry.example/pgha:1');
    expect(items.find((o) => o.kind === 'Service' && o.metadata.name === 'orders')).toBeDefined();
    expect(items.find((o) => o.kind === 'Service' && o.metadata.name === 'orders-replicas')).toBeDefined();
    expect((items.find((o) => o.kind === 'Secret') as any).stringData['superuser-password']).toBe('given-one');
    expect((items.find((o) => o.kind === 'Secret') as any).stringData['restapi-password']).toBe('given-api');
    expect((items.find((o) => o.kind === 'NetworkPolicy') as any).spec.ingress[1].from[0].podSelector.matchLabels).toEqual({ 'pgha.io/client': 'orders' });
    expect((items.find((o) => o.kind === 'ConfigMap') as any).data['pgha.yaml']).toContain('scope: orders');
  });

  it('gives two instances with different CLUSTER_NAME disjoint object names, so both fit in one project', () => {
    const names = (items: Manifest[]) => items.map((o) => `${o.kind}/${o.metadata.name}`);
    const [orders, billing] = [names(processTemplate(file, { CLUSTER_NAME: 'orders' })), names(processTemplate(file, { CLUSTER_NAME: 'billing' }))];
    expect(new Set(orders).size).toBe(orders.length);
    expect(orders.filter((n) => billing.includes(n))).toEqual([]);
    expect(orders.every((n) => /^[A-Za-z]+\/orders(-[a-z]+)?$/.test(n))).toBe(true);
    // The service names follow CLUSTER_NAME; there is no parameter to set them apart from it.
    for (const dropped of ['PRIMARY_SERVICE_NAME', 'REPLICAS_SERVICE_NAME']) {
      expect(runStatus(toolBinary('template-process'), ['-f', repoPath('templates', file), '-p', `${dropped}=x`]).stderr).toContain(
        `unknown parameter name "${dropped}"`,
      );
    }
  });

  it('passes POSTGRESQL_PARAMETERS and SYNCHRONOUS_MODE into the member configuration the agent loads', () => {
    const items = processTemplate(file, { POSTGRESQL_PARAMETERS: '{"max_connections": 250, "work_mem": "8MB"}', SYNCHRONOUS_MODE: 'true' });
    const text = (items.find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> }).data['pgha.yaml']!;
    const env = {
      PATRONI_NAME: 'pgha-0',
      PATRONI_KUBERNETES_POD_IP: '192.0.2.7',
      PATRONI_SUPERUSER_PASSWORD_FILE: '/s',
      PATRONI_REPLICATION_PASSWORD_FILE: '/r',
      PATRONI_RESTAPI_PASSWORD_FILE: '/a',
    };
    expect(loadAgentConfig({ yaml: text, env }, () => 'pw').postgresql.parameters).toEqual({ max_connections: 250, work_mem: '8MB' });
    expect(parse(text).bootstrap.dcs.synchronous_mode).toBe(true);
    const defaults = (processTemplate(file, {}).find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> }).data['pgha.yaml']!;
    expect(parse(defaults)).toMatchObject({ postgresql: { parameters: {} }, bootstrap: { dcs: { synchronous_mode: false } } });
    expect(loadAgentConfig({ yaml: defaults, env }, () => 'pw').restapi.authentication).toEqual({ username: 'pgha', password: 'pw', passwordFile: '/a' });
  });

  it('refuses an unknown parameter', () => {
    const r = runStatus(toolBinary('template-process'), ['-f', repoPath('templates', file), '-p', 'NO_SUCH=1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('unknown parameter name "NO_SUCH"');
  });

  it('applies with a server-side dry run and no warnings, then for real with every Pod created', async () => {
    const ns = { name: await suite.restrictedNamespace('tk-tpl') };
    const items = processTemplate(file, { CLUSTER_NAME: 'tpl', REPLICAS: '2' });
    expect(warningsOf(await serverSideApply(suite.admin, ns.name, items, { dryRun: true }))).toEqual({});
    expect(warningsOf(await serverSideApply(suite.admin, ns.name, items, { dryRun: false }))).toEqual({});
    await eventually(
      'two Pods',
      async () => {
        const pods = await suite.admin.request<{ items: unknown[] }>({
          method: 'GET',
          path: `/api/v1/namespaces/${ns.name}/pods`,
          query: { labelSelector: 'cluster-name=tpl' },
        });
        return pods.body.items.length === 2 || undefined;
      },
      60_000,
    );
    const events = await suite.admin.request<{ items: { reason: string }[] }>({ method: 'GET', path: `/api/v1/namespaces/${ns.name}/events` });
    expect(events.body.items.filter((e) => e.reason === 'FailedCreate')).toEqual([]);
    // The NetworkPolicy the API server accepted selects exactly the StatefulSet's Pods.
    expect(await podsSelectedBy(suite.admin, ns.name, (await storedNetworkPolicy(suite.admin, ns.name, 'tpl')).spec.podSelector.matchLabels)).toEqual([
      'tpl-0',
      'tpl-1',
    ]);
  });
});

describe.each(['pgha-ephemeral-existing-secret.yaml', 'pgha-persistent-existing-secret.yaml'])('OpenShift Template %s', (file) => {
  const suite = toolkitSuite();

  it('needs CREDENTIALS_SECRET, and takes no password', () => {
    const missing = runStatus(toolBinary('template-process'), ['-f', repoPath('templates', file)]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('parameter CREDENTIALS_SECRET is required and must be specified');
    const password = runStatus(toolBinary('template-process'), ['-f', repoPath('templates', file), '-p', 'CREDENTIALS_SECRET=x', '-p', 'SUPERUSER_PASSWORD=x']);
    expect(password.stderr).toContain('unknown parameter name "SUPERUSER_PASSWORD"');
  });

  it('creates no Secret and mounts the named one, then applies with no warnings in a restricted namespace', async () => {
    const items = processTemplate(file, { CLUSTER_NAME: 'own', CREDENTIALS_SECRET: 'own-passwords' });
    expect(items.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(JSON.stringify(items)).not.toContain('${');
    const sts = items.find((o) => o.kind === 'StatefulSet') as any;
    expect(sts.spec.template.spec.volumes).toContainEqual(expect.objectContaining({ secret: expect.objectContaining({ secretName: 'own-passwords' }) }));
    const ns = await suite.restrictedNamespace('tk-tpl-own');
    expect(warningsOf(await serverSideApply(suite.admin, ns, items, { dryRun: true }))).toEqual({});
  });
});
