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

  it('defaults its values to the construct\'s defaults', () => {
    const values = parse(files['values.yaml']!);
    expect(values).toMatchObject({ image: DEFAULT_IMAGE, replicas: 3, useEndpoints: false, openshift: false, ttl: 30, loopWait: 10, retryTimeout: 10, roleLabel: 'role' });
    expect(values.storage).toEqual({ persistent: true, size: '10Gi', className: '' });
    expect(values.credentials).toEqual({ superuserPassword: '', replicationPassword: '' });
  });

  it('takes timing bounds in values.schema.json from the agent\'s own schema', () => {
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
    expect(files['templates/secret-credentials.yaml']).toContain('include "pgha.password" (list . "superuser-password" .Values.credentials.superuserPassword) | quote');
  });
});
