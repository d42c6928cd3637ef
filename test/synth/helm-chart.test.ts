import { parse } from 'yaml';
import { FIELDS } from '../../agent/src/config/schema';
import { DEFAULT_IMAGE } from '../../constructs';
import { helmChartFiles } from '../../src/outputs/helm-chart';

describe('Helm chart files', () => {
  const files = helmChartFiles();

  it('is deterministic', () => {
    expect(helmChartFiles()).toEqual(files);
  });

  it('has one template per object the construct can synthesize, and the chart metadata', () => {
    expect(Object.keys(files).sort()).toEqual(
      [
        'Chart.yaml',
        'values.yaml',
        'values.schema.json',
        'templates/_helpers.tpl',
        'templates/NOTES.txt',
        'templates/configmap-pgha.yaml',
        'templates/networkpolicy.yaml',
        'templates/poddisruptionbudget.yaml',
        'templates/role.yaml',
        'templates/rolebinding.yaml',
        'templates/secret-credentials.yaml',
        'templates/service.yaml',
        'templates/service-config.yaml',
        'templates/service-members.yaml',
        'templates/service-replicas.yaml',
        'templates/serviceaccount.yaml',
        'templates/statefulset.yaml',
      ].sort(),
    );
  });

  it("defaults its values to the construct's defaults", () => {
    const values = parse(files['values.yaml']!);
    expect(values).toMatchObject({
      image: DEFAULT_IMAGE,
      replicas: 3,
      useEndpoints: false,
      openshift: false,
      ttl: 30,
      loopWait: 10,
      retryTimeout: 10,
      roleLabel: 'role',
    });
    expect(values.storage).toEqual({ persistent: true, size: '10Gi', className: '' });
    expect(values.credentials).toEqual({ superuserPassword: '', replicationPassword: '', restApiPassword: '' });
    expect(values.restApi).toEqual({ authentication: { enabled: true, username: 'pgha' } });
    expect(values.networkPolicy).toEqual({ enabled: true });
  });

  it("takes timing bounds in values.schema.json from the agent's own schema", () => {
    const schema = JSON.parse(files['values.schema.json']!);
    const ttl = FIELDS.find((f) => f.key === 'ttl')!;
    expect(schema.properties.ttl).toMatchObject({ type: 'integer', minimum: ttl.min, maximum: ttl.max });
    expect(schema.properties.replicas).toMatchObject({ type: 'integer', minimum: 1 });
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(parse(files['values.yaml']!)).sort());
  });

  it('branches only where the model differs: the primary Service on store mode', () => {
    expect(files['templates/service.yaml']).toMatch(/^\{\{- if \.Values\.useEndpoints \}\}\n/);
    expect(files['templates/service-config.yaml']).toMatch(/^\{\{- if \.Values\.useEndpoints \}\}\n[\s\S]*\{\{- end \}\}\n$/);
    expect(files['templates/serviceaccount.yaml']).not.toContain('{{- if');
    expect(files['templates/secret-credentials.yaml']).toContain(
      'include "pgha.password" (list . "superuser-password" .Values.credentials.superuserPassword) | quote',
    );
    expect(files['templates/networkpolicy.yaml']).toMatch(
      /^\{\{- if \.Values\.networkPolicy\.enabled \}\}\napiVersion: networking\.k8s\.io\/v1\n[\s\S]*\{\{- end \}\}\n$/,
    );
  });

  it('puts REST API authentication around the lines it adds, not around copies of whole objects', () => {
    const on = '{{- if .Values.restApi.authentication.enabled }}';
    expect(files['templates/secret-credentials.yaml']).toContain(
      `${on}\n  restapi-password: {{ include "pgha.password" (list . "restapi-password" .Values.credentials.restApiPassword) | quote }}\n{{- end }}\n`,
    );
    expect(files['templates/configmap-pgha.yaml']).toContain(
      `    restapi:\n${on}\n      authentication:\n        username: {{ .Values.restApi.authentication.username | quote }}\n{{- end }}\n      listen: 0.0.0.0:8008\n`,
    );
    expect(files['templates/statefulset.yaml']).toContain(
      `${on}\n            - name: PATRONI_RESTAPI_PASSWORD_FILE\n              value: /etc/pgha-credentials/restapi-password\n{{- end }}\n`,
    );
    // As many StatefulSet copies as before: one per openshift/persistent combination.
    expect(files['templates/statefulset.yaml']!.match(/^kind: StatefulSet$/gm)).toHaveLength(4);
  });

  it('tells in NOTES.txt how to read the passwords and which label a client Pod needs', () => {
    const notes = files['templates/NOTES.txt']!;
    expect(notes).toContain("jsonpath='{.data.superuser-password}'");
    expect(notes).toContain("jsonpath='{.data.restapi-password}'");
    expect(notes).toContain('labelled pgha.io/client={{ $name }}');
  });
});
