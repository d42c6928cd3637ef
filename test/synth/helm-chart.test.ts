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
    expect(values.existingSecret).toBe('');
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

  it('tells in NOTES.txt how to connect, how to read the passwords and which label a client Pod needs', () => {
    const notes = files['templates/NOTES.txt']!;
    expect(notes).toContain('read-write: Service {{ $name }} ');
    expect(notes).toContain('psql "host={{ $name }}.{{ $ns }}.svc port=5432 user=postgres"');
    expect(notes).toContain('{{- $secret := include "pgha.credentialsSecret" . -}}');
    expect(notes).toContain("kubectl get secret -n {{ $ns }} {{ $secret }} -o jsonpath='{.data.superuser-password}' | base64 -d");
    expect(notes).toContain("kubectl get secret -n {{ $ns }} {{ $secret }} -o jsonpath='{.data.restapi-password}' | base64 -d");
    expect(notes).toMatch(/\{\{ if \.Values\.existingSecret -\}\}\nThe passwords come from your Secret \{\{ \$secret \}\}/);
    expect(notes).toContain('labelled pgha.io/client={{ $name }}');
  });

  describe('existingSecret', () => {
    it('is a Secret name in values.schema.json, documented with the keys it must hold', () => {
      const schema = JSON.parse(files['values.schema.json']!);
      expect(schema.properties.existingSecret).toMatchObject({ type: 'string', maxLength: 253 });
      const pattern = new RegExp(schema.properties.existingSecret.pattern);
      for (const ok of ['', 'orders-passwords', 'a.b-c']) expect(pattern.test(ok)).toBe(true);
      for (const bad of ['Orders', 'a_b', '-a', 'a-']) expect(pattern.test(bad)).toBe(false);
      for (const text of [schema.properties.existingSecret.description, files['values.yaml']!]) {
        for (const key of ['superuser-password', 'replication-password', 'restapi-password']) expect(text).toContain(key);
      }
    });

    it('renders the credentials Secret only without it, still kept on uninstall', () => {
      const secret = files['templates/secret-credentials.yaml']!;
      expect(secret).toMatch(/^\{\{- if not \.Values\.existingSecret \}\}\napiVersion: v1\nkind: Secret\n[\s\S]*\n\{\{- end \}\}\n$/);
      expect(secret).toContain('    helm.sh/resource-policy: keep\n');
      expect(secret).toContain('  name: {{ include "pgha.scope" . }}-credentials\n');
    });

    it('is the Secret every member mounts, and nothing else names the generated one', () => {
      const sts = files['templates/statefulset.yaml']!;
      const refs = sts.match(/^ *secretName: .*$/gm)!;
      expect(refs.length).toBe(4);
      for (const r of refs) expect(r.trim()).toBe('secretName: {{ include "pgha.credentialsSecret" . | quote }}');
      const naming = Object.entries(files).filter(([path, text]) => path.startsWith('templates/') && text.includes('}}-credentials'));
      expect(naming.map(([path]) => path).sort()).toEqual(['templates/secret-credentials.yaml']);
      expect(files['templates/_helpers.tpl']).toContain(
        '{{- define "pgha.credentialsSecret" -}}\n{{- .Values.existingSecret | default (printf "%s-credentials" (include "pgha.scope" .)) -}}\n{{- end -}}',
      );
    });

    it('refuses credentials given with it, naming the value', () => {
      expect(files['templates/configmap-pgha.yaml']).toMatch(
        /^(\{\{- include "pgha\.check[A-Za-z]+" \. \}\}\n)*\{\{- include "pgha\.checkCredentials" \. \}\}\n/,
      );
      expect(files['templates/_helpers.tpl']).toContain('invalid credentials.%s: set together with existingSecret %q');
    });
  });
});
