import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Persistence } from '../../constructs';
import { openshiftTemplate, openshiftTemplateYaml } from '../../src/outputs/openshift-template';

describe.each([Persistence.EPHEMERAL, Persistence.PERSISTENT])('OpenShift Template (%s)', (persistence) => {
  const template = openshiftTemplate(persistence) as any;
  const text = openshiftTemplateYaml(persistence);

  it('is the committed templates/ file, byte for byte (run `npm run synth` after changing the model)', () => {
    expect(readFileSync(join(__dirname, '..', '..', 'templates', `pgha-${persistence}.yaml`), 'utf8')).toBe(text);
  });

  it('uses every parameter it declares, and declares every parameter it uses', () => {
    const declared = template.parameters.map((p: { name: string }) => p.name).sort();
    const used = [...new Set([...JSON.stringify(template.objects).matchAll(/\$\{\{?([A-Z_]+)\}?\}/g)].map((m) => m[1]))].sort();
    expect(used).toEqual(declared);
  });

  it('generates the three passwords, each described, and has no default password', () => {
    for (const name of ['SUPERUSER_PASSWORD', 'REPLICATION_PASSWORD', 'RESTAPI_PASSWORD']) {
      const p = template.parameters.find((x: { name: string }) => x.name === name);
      expect(p).toMatchObject({ generate: 'expression', from: '[a-zA-Z0-9]{24}', description: expect.stringMatching(/generated when not given/i) });
      expect(p.value).toBeUndefined();
    }
  });

  it('turns REST API authentication on, with the password only as a file, and includes the NetworkPolicy', () => {
    const byKind = (kind: string) => template.objects.find((o: { kind: string }) => o.kind === kind);
    expect(parse(byKind('ConfigMap').data['pgha.yaml']).restapi.authentication).toEqual({ username: 'pgha' });
    expect(byKind('Secret').stringData['restapi-password']).toBe('${RESTAPI_PASSWORD}');
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
