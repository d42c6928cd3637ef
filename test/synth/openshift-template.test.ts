import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Persistence } from '../../constructs';
import { openshiftTemplate, openshiftTemplateYaml, TEMPLATE_VARIANTS, templateName } from '../../src/outputs/openshift-template';

describe.each(TEMPLATE_VARIANTS.map((v) => [templateName(v), v] as const))('OpenShift Template %s', (name, v) => {
  const { persistence } = v;
  const template = openshiftTemplate(v) as any;
  const text = openshiftTemplateYaml(v);
  const secret = v.existingSecret ? '${CREDENTIALS_SECRET}' : '${CLUSTER_NAME}-credentials';

  it('is the committed templates/ file, byte for byte (run `npm run synth` after changing the model)', () => {
    expect(readFileSync(join(__dirname, '..', '..', 'templates', `${name}.yaml`), 'utf8')).toBe(text);
  });

  it('uses every parameter it declares, and declares every parameter it uses', () => {
    const declared = template.parameters.map((p: { name: string }) => p.name).sort();
    const used = [...new Set([...JSON.stringify(template.objects).matchAll(/\$\{\{?([A-Z_]+)\}?\}/g)].map((m) => m[1]))].sort();
    expect(used).toEqual(declared);
  });

  it('names every object after CLUSTER_NAME, so two instances with different names in one project share none', () => {
    type Param = { name: string; value?: string };
    // The substitution the template processor makes, with every other parameter at its default.
    const names = (clusterName: string) =>
      template.objects.map((o: { kind: string; metadata: { name: string } }) =>
        `${o.kind}/${o.metadata.name}`.replace(/\$\{([A-Z_]+)\}/g, (_all, p: string) =>
          p === 'CLUSTER_NAME' ? clusterName : String(template.parameters.find((x: Param) => x.name === p).value),
        ),
      ) as string[];
    for (const o of template.objects) expect(o.metadata.name).toMatch(/^\$\{CLUSTER_NAME\}(-[a-z]+)?$/);
    const [orders, billing] = [names('orders'), names('billing')];
    expect(new Set(orders).size).toBe(orders.length);
    expect(orders.filter((n) => billing.includes(n))).toEqual([]);
    expect(orders).toEqual(expect.arrayContaining(['Service/orders', 'Service/orders-replicas', ...(v.existingSecret ? [] : ['Secret/orders-credentials'])]));
    expect(template.parameters.map((p: Param) => p.name)).not.toEqual(expect.arrayContaining(['PRIMARY_SERVICE_NAME']));
    expect(template.parameters.map((p: Param) => p.name)).not.toEqual(expect.arrayContaining(['REPLICAS_SERVICE_NAME']));
  });

  it('describes itself and every parameter for the catalog', () => {
    expect(template.metadata.annotations).toMatchObject({
      'openshift.io/display-name': expect.stringContaining('PostgreSQL'),
      description: expect.stringMatching(/\S/),
      iconClass: 'icon-postgresql',
      tags: expect.stringContaining('postgresql'),
    });
    for (const p of template.parameters) {
      expect({ name: p.name, displayName: p.displayName, description: p.description }).toEqual({
        name: p.name,
        displayName: expect.stringMatching(/\S/),
        description: expect.stringMatching(/\S{3}/),
      });
    }
  });

  it('tells in its message where to connect and how to read the password, with declared parameters only', () => {
    expect(template.message).toContain('psql "host=${CLUSTER_NAME} port=5432 user=postgres"');
    expect(template.message).toContain('${CLUSTER_NAME}-replicas');
    expect(template.message).toContain(`oc get secret ${secret} -o jsonpath='{.data.superuser-password}' | base64 -d`);
    const declared = template.parameters.map((p: { name: string }) => p.name);
    for (const [, used] of (template.message as string).matchAll(/\$\{\{?([A-Z_]+)\}?\}/g)) expect(declared).toContain(used);
  });

  const passwordParameters = ['SUPERUSER_PASSWORD', 'REPLICATION_PASSWORD', 'RESTAPI_PASSWORD'];
  if (v.existingSecret) {
    it('takes no password, creates no Secret, and mounts the one CREDENTIALS_SECRET names (required, no default)', () => {
      const declared = template.parameters.map((p: { name: string }) => p.name);
      for (const p of passwordParameters) expect(declared).not.toContain(p);
      expect(template.parameters.find((p: { name: string }) => p.name === 'CREDENTIALS_SECRET')).toMatchObject({ required: true });
      expect(template.parameters.find((p: { name: string }) => p.name === 'CREDENTIALS_SECRET').value).toBeUndefined();
      expect(template.objects.filter((o: { kind: string }) => o.kind === 'Secret')).toEqual([]);
      const sts = template.objects.find((o: { kind: string }) => o.kind === 'StatefulSet');
      expect(JSON.stringify(sts.spec.template.spec.volumes)).toContain('"secretName":"${CREDENTIALS_SECRET}"');
    });
  } else {
    it('generates the three passwords, each described, and has no default password', () => {
      for (const pname of passwordParameters) {
        const p = template.parameters.find((x: { name: string }) => x.name === pname);
        expect(p).toMatchObject({ generate: 'expression', from: '[a-zA-Z0-9]{24}', description: expect.stringMatching(/generated when not given/i) });
        expect(p.value).toBeUndefined();
      }
      expect(template.objects.find((o: { kind: string }) => o.kind === 'Secret').stringData['restapi-password']).toBe('${RESTAPI_PASSWORD}');
    });
  }

  it('turns REST API authentication on, with the password only as a file, and includes the NetworkPolicy', () => {
    const byKind = (kind: string) => template.objects.find((o: { kind: string }) => o.kind === kind);
    expect(parse(byKind('ConfigMap').data['pgha.yaml']).restapi.authentication).toEqual({ username: 'pgha' });
    expect(byKind('StatefulSet').spec.template.spec.containers[0].env).toContainEqual({
      name: 'PATRONI_RESTAPI_PASSWORD_FILE',
      value: '/etc/pgha-credentials/restapi-password',
    });
    const policy = byKind('NetworkPolicy');
    expect(policy.metadata.name).toBe('${CLUSTER_NAME}');
    expect(policy.spec.podSelector.matchLabels).toEqual(byKind('StatefulSet').spec.selector.matchLabels);
    expect(policy.spec.ingress[1].from).toEqual([{ podSelector: { matchLabels: { 'pgha.io/client': '${CLUSTER_NAME}' } } }]);
    expect(template.message).toContain('labelled pgha.io/client=${CLUSTER_NAME}');
  });

  it('runs ConfigMaps mode with no fixed user or fsGroup, and no hard-coded namespace', () => {
    const sts = template.objects.find((o: { kind: string }) => o.kind === 'StatefulSet');
    expect(sts.spec.template.spec.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(sts.spec.replicas).toBe('${{REPLICAS}}');
    expect(parse(template.objects.find((o: { kind: string }) => o.kind === 'ConfigMap').data['pgha.yaml']).kubernetes.use_endpoints).toBe(false);
    expect(template.objects.every((o: { metadata: { namespace?: string } }) => o.metadata.namespace === undefined)).toBe(true);
  });

  it(persistence === Persistence.PERSISTENT ? 'claims a VOLUME_SIZE volume per member' : 'keeps data in an emptyDir', () => {
    const sts = template.objects.find((o: { kind: string }) => o.kind === 'StatefulSet');
    if (persistence === Persistence.PERSISTENT) {
      expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('${VOLUME_SIZE}');
    } else {
      expect(sts.spec.template.spec.volumes).toContainEqual({ name: 'data', emptyDir: {} });
    }
  });
});
