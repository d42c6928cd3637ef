import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { FIELDS } from '../../agent/src/config/schema';
import { DEFAULT_IMAGE } from '../../constructs';
import { helmChartFiles } from '../../src/outputs/helm-chart';
import { run, runStatus, toolBinary } from '../integration/toolkit/tools';
import { synthCluster } from './helpers';

describe('Helm chart files', () => {
  const files = helmChartFiles();

  it('is deterministic', () => {
    expect(helmChartFiles()).toEqual(files);
  });

  it('has one template per object the construct can synthesize, and the chart metadata', () => {
    expect(Object.keys(files).sort()).toEqual(
      [
        'Chart.yaml',
        'README.md',
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
        'templates/tests/connection.yaml',
        'templates/podmonitor.yaml',
      ].sort(),
    );
  });

  it('has a README generated from values.schema.json: every value of values.yaml, with its default and description', () => {
    const readme = files['README.md']!;
    const rows = new Map(
      [...readme.matchAll(/^\| `([^`]+)` \| (.+?) \| `(.*?)` \| (.+) \|$/gm)].map((m) => [m[1]!, { type: m[2]!, defaultValue: m[3]!, description: m[4]! }]),
    );
    const values = parse(files['values.yaml']!) as Record<string, unknown>;
    // Every leaf of values.yaml is a row, or lies inside one (a map or list value such as affinity or postgresql.parameters).
    const leaves = (v: unknown, path: string[]): string[] =>
      v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 && !rows.has(path.join('.'))
        ? Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]))
        : [path.join('.')];
    for (const path of Object.keys(values).flatMap((k) => leaves(values[k], [k]))) {
      expect({ path, row: rows.has(path) }).toEqual({ path, row: true });
      expect(JSON.parse(rows.get(path)!.defaultValue.replace(/\\\|/g, '|'))).toEqual(path.split('.').reduce<any>((o, k) => o[k], values));
    }
    expect(rows.get('image.pullPolicy')!.type).toBe('"IfNotPresent" \\| "Always" \\| "Never"');
    expect(rows.get('metrics.podMonitor.enabled')).toMatchObject({ type: 'boolean', defaultValue: 'false' });
  });

  it("defaults its values to the construct's defaults", () => {
    const values = parse(files['values.yaml']!);
    expect(`${values.image.repository}:${values.image.tag}`).toBe(DEFAULT_IMAGE);
    expect(values.image).toMatchObject({ pullPolicy: 'IfNotPresent', pullSecrets: [] });
    expect(values).toMatchObject({
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

// The chart rendered by the real helm (test/control-plane/build.sh builds it from its Go module).
describe('Helm chart conventions, rendered by helm', () => {
  const work = mkdtempSync(join(tmpdir(), 'pgha-helm-values-'));
  const chart = join(work, 'pgha');
  const helmEnv = { HELM_CACHE_HOME: join(work, 'cache'), HELM_CONFIG_HOME: join(work, 'config'), HELM_DATA_HOME: join(work, 'data') };
  beforeAll(() => {
    for (const [path, text] of Object.entries(helmChartFiles())) {
      mkdirSync(dirname(join(chart, path)), { recursive: true });
      writeFileSync(join(chart, path), text);
    }
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  type Obj = { kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any };
  let valuesFiles = 0;
  /**
   * `helm template` with values given as a values file (lists and maps as they are written in one): the release's
   * objects, without the `helm test` Pod unless `set` asks for it (`--show-only templates/tests/connection.yaml`).
   */
  function template(values: Record<string, unknown> = {}, set: string[] = ['--skip-tests']): Obj[] {
    const file = join(work, `values-${valuesFiles++}.yaml`);
    writeFileSync(file, stringify(values));
    return parseAllDocuments(run(toolBinary('helm'), ['template', 'r', chart, '-f', file, ...set], helmEnv))
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => o !== null);
  }
  function refused(values: Record<string, unknown>): string {
    const file = join(work, `values-${valuesFiles++}.yaml`);
    writeFileSync(file, stringify(values));
    const r = runStatus(toolBinary('helm'), ['template', 'r', chart, '-f', file], helmEnv);
    expect(r.status).not.toBe(0);
    return r.stderr;
  }
  const find = (objects: Obj[], kind: string, name = 'r') => objects.find((o) => o.kind === kind && o.metadata.name === name)!;
  const podSpec = (objects: Obj[]) => find(objects, 'StatefulSet').spec.template.spec;

  it('passes helm lint --strict with every new value set', () => {
    const file = join(work, 'lint.yaml');
    writeFileSync(
      file,
      stringify({
        image: { repository: 'registry.example/pgha', tag: '2', pullPolicy: 'Always', pullSecrets: ['regcred'] },
        nodeSelector: { 'kubernetes.io/hostname': 'node-1' },
        tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }],
        affinity: { podAntiAffinity: {} },
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }],
        priorityClassName: 'high',
        podAnnotations: { 'example.com/team': 'db' },
        podLabels: { tier: 'data' },
        extraEnv: [{ name: 'TZ', value: 'UTC' }],
        service: { type: 'NodePort', annotations: { 'example.com/lb': 'internal' } },
      }),
    );
    run(toolBinary('helm'), ['lint', '--strict', chart], helmEnv);
    run(toolBinary('helm'), ['lint', '--strict', chart, '-f', file], helmEnv);
  });

  it('by default renders the objects it rendered before these values, with the two Helm labels on each', () => {
    const objects = template();
    for (const o of objects) {
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': 'pgha-0.1.0' });
    }
    const pod = podSpec(objects);
    for (const key of ['nodeSelector', 'tolerations', 'topologySpreadConstraints', 'priorityClassName', 'imagePullSecrets']) expect(pod[key]).toBeUndefined();
    // The chart's own affinity stays: members preferably on different nodes.
    expect(pod.affinity).toEqual({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'pgha', 'cluster-name': 'r' } },
              topologyKey: 'kubernetes.io/hostname',
            },
          },
        ],
      },
    });
    const c = pod.containers[0];
    expect(c.image).toBe(DEFAULT_IMAGE);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.env.map((e: { name: string }) => e.name)).toEqual([
      'PATRONI_NAME',
      'PATRONI_KUBERNETES_NAMESPACE',
      'PATRONI_KUBERNETES_POD_IP',
      'PATRONI_SUPERUSER_PASSWORD_FILE',
      'PATRONI_REPLICATION_PASSWORD_FILE',
      'PATRONI_RESTAPI_PASSWORD_FILE',
      'PATRONICTL_CONFIG_FILE',
    ]);
    const template_ = find(objects, 'StatefulSet').spec.template.metadata;
    expect(Object.keys(template_.annotations)).toEqual(['pgha.io/config-sha256']);
    expect(template_.labels['helm.sh/chart']).toBeUndefined();
    for (const name of ['r', 'r-replicas']) {
      expect(find(objects, 'Service', name).spec.type).toBe('ClusterIP');
      expect(find(objects, 'Service', name).metadata.annotations).toBeUndefined();
    }
  });

  it('by default renders what the construct synthesizes with its defaults, apart from the Helm labels', () => {
    const helmLabels = ['app.kubernetes.io/managed-by', 'helm.sh/chart'];
    // Compared as data: the member file parsed (Helm quotes some strings), the digest and the generated Secret left out.
    const normal = (objects: Obj[]) =>
      objects
        .filter((o) => o.kind !== 'Secret')
        .map((o) => {
          const c = structuredClone(o);
          for (const l of helmLabels) delete c.metadata.labels?.[l];
          if (c.kind === 'ConfigMap') c.data['pgha.yaml'] = parse(c.data['pgha.yaml']);
          if (c.kind === 'StatefulSet') c.spec.template.metadata.annotations['pgha.io/config-sha256'] = 'digest';
          return c;
        })
        .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
    const model = synthCluster({}, 'r') as Obj[];
    expect(normal(template())).toEqual(normal(model));
  });

  it('adds the Helm labels to metadata only: selectors, the Pod template and the volume claims stay as they were', () => {
    const objects = template();
    const sts = find(objects, 'StatefulSet');
    expect(sts.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'pgha', 'cluster-name': 'r' });
    expect(sts.spec.volumeClaimTemplates[0].metadata.labels).not.toHaveProperty('helm.sh/chart');
    expect(sts.spec.volumeClaimTemplates[0].metadata.labels).not.toHaveProperty('app.kubernetes.io/managed-by');
    expect(find(objects, 'Service', 'r').spec.selector).toEqual({ 'app.kubernetes.io/name': 'pgha', 'cluster-name': 'r', role: 'primary' });
    expect(find(objects, 'PodDisruptionBudget').spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'pgha', 'cluster-name': 'r' });
    expect(find(objects, 'NetworkPolicy').spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'pgha', 'cluster-name': 'r' });
  });

  it('renders the Helm labels in every switch combination, the credentials Secret included', () => {
    const objects = template({}, [
      '--set',
      'useEndpoints=true,openshift=true,storage.persistent=false,restApi.authentication.enabled=false,networkPolicy.enabled=false',
    ]);
    expect(objects.map((o) => o.kind)).toContain('Secret');
    for (const o of objects) expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'Helm', 'helm.sh/chart': 'pgha-0.1.0' });
  });

  it('takes the image from image.repository, image.tag, image.pullPolicy and image.pullSecrets', () => {
    const pod = podSpec(
      template({ image: { repository: 'registry.example:5000/pgha/agent', tag: 7, pullPolicy: 'Always', pullSecrets: ['regcred', 'mirror'] } }),
    );
    expect(pod.containers[0].image).toBe('registry.example:5000/pgha/agent:7');
    expect(pod.containers[0].imagePullPolicy).toBe('Always');
    expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }, { name: 'mirror' }]);
  });

  it.each<[string, unknown]>([
    ['nodeSelector', { 'kubernetes.io/hostname': 'node-1', disk: 'ssd' }],
    [
      'tolerations',
      [
        { key: 'dedicated', operator: 'Equal', value: 'postgres', effect: 'NoSchedule' },
        { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
      ],
    ],
    [
      'affinity',
      {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }] },
        },
      },
    ],
    [
      'topologySpreadConstraints',
      [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { 'cluster-name': 'r' } } }],
    ],
    ['priorityClassName', 'database-critical'],
  ])('puts %s in the Pod spec as given', (key, value) => {
    expect(podSpec(template({ [key]: value }))[key]).toEqual(value);
  });

  it('adds podAnnotations and podLabels to the Pod template, keeping its own', () => {
    const meta = find(
      template({ podAnnotations: { 'example.com/team': 'db', note: 'a b' }, podLabels: { tier: 'data', 'example.com/owner': 'ops' } }),
      'StatefulSet',
    ).spec.template.metadata;
    expect(meta.annotations).toEqual({ 'pgha.io/config-sha256': expect.stringMatching(/^[0-9a-f]{64}$/), 'example.com/team': 'db', note: 'a b' });
    expect(meta.labels).toEqual({
      'app.kubernetes.io/name': 'pgha',
      'app.kubernetes.io/instance': 'r',
      'app.kubernetes.io/component': 'database',
      'app.kubernetes.io/part-of': 'pgha',
      'app.kubernetes.io/version': '0.1.0',
      'cluster-name': 'r',
      tier: 'data',
      'example.com/owner': 'ops',
    });
  });

  it("appends extraEnv to the agent's environment", () => {
    const extraEnv = [
      { name: 'TZ', value: 'UTC' },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    ];
    const env = podSpec(template({ extraEnv })).containers[0].env;
    expect(env.slice(-2)).toEqual(extraEnv);
    expect(env[0].name).toBe('PATRONI_NAME');
  });

  it.each(['NodePort', 'LoadBalancer'])('makes the read-write and read-only Services %s with service.annotations, the members Service untouched', (type) => {
    const objects = template({ service: { type, annotations: { 'example.com/lb': 'internal' } } });
    for (const name of ['r', 'r-replicas']) {
      expect(find(objects, 'Service', name).spec.type).toBe(type);
      expect(find(objects, 'Service', name).metadata.annotations).toEqual({ 'example.com/lb': 'internal' });
    }
    expect(find(objects, 'Service', 'r-members').spec).toMatchObject({ clusterIP: 'None' });
    expect(find(objects, 'Service', 'r-members').metadata.annotations).toBeUndefined();
    // Endpoints mode: the selector-less primary Service takes them too.
    const ep = template({ useEndpoints: true, service: { type, annotations: { 'example.com/lb': 'internal' } } });
    expect(find(ep, 'Service', 'r').spec).toMatchObject({ type });
    expect(find(ep, 'Service', 'r').spec.selector).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['image as a string', { image: 'registry.example/pgha:2' }, /at '\/image': got string, want object/],
    ['image.tag with a colon', { image: { tag: 'a:b' } }, /at '\/image\/tag'/],
    ['image.pullPolicy', { image: { pullPolicy: 'Sometimes' } }, /at '\/image\/pullPolicy': value must be one of 'IfNotPresent', 'Always', 'Never'/],
    ['image.pullSecrets as a string', { image: { pullSecrets: 'regcred' } }, /at '\/image\/pullSecrets': got string, want array/],
    ['nodeSelector as a list', { nodeSelector: ['a'] }, /at '\/nodeSelector': got array, want object/],
    ['a nodeSelector value that is a number', { nodeSelector: { disk: 1 } }, /at '\/nodeSelector\/disk': got number, want string/],
    ['tolerations as a map', { tolerations: { key: 'a' } }, /at '\/tolerations': got object, want array/],
    ['a toleration field misspelt', { tolerations: [{ keys: 'a' }] }, /at '\/tolerations\/0': additional properties 'keys' not allowed/],
    ['affinity as a list', { affinity: [] }, /at '\/affinity': got array, want object/],
    [
      'topologySpreadConstraints without maxSkew',
      { topologySpreadConstraints: [{ topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }] },
      /at '\/topologySpreadConstraints\/0': missing property 'maxSkew'/,
    ],
    ['priorityClassName as a number', { priorityClassName: 5 }, /at '\/priorityClassName': got number, want string/],
    ['podAnnotations as a string', { podAnnotations: 'a=b' }, /at '\/podAnnotations': got string, want object/],
    ['a podLabels value that is a number', { podLabels: { tier: 2 } }, /at '\/podLabels\/tier': got number, want string/],
    ['extraEnv as a map', { extraEnv: { TZ: 'UTC' } }, /at '\/extraEnv': got object, want array/],
    ['an extraEnv entry without a name', { extraEnv: [{ value: 'UTC' }] }, /at '\/extraEnv\/0': missing property 'name'/],
    ['service.type', { service: { type: 'ExternalName' } }, /at '\/service\/type': value must be one of 'ClusterIP', 'NodePort', 'LoadBalancer'/],
    ['service.annotations as a list', { service: { annotations: ['a'] } }, /at '\/service\/annotations': got array, want object/],
  ])('refuses %s through values.schema.json, naming the field', (_name, values, message) => {
    expect(refused(values)).toMatch(message);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a Pod label the selectors use',
      { podLabels: { 'cluster-name': 'x' } },
      'invalid podLabels.cluster-name: the chart or the agent sets that Pod label itself; any key but',
    ],
    ['the role label the agent sets', { podLabels: { role: 'x' } }, 'invalid podLabels.role: the chart or the agent sets that Pod label itself'],
    [
      'the configuration digest annotation',
      { podAnnotations: { 'pgha.io/config-sha256': 'x' } },
      'invalid podAnnotations.pgha.io/config-sha256: the chart sets that Pod annotation itself',
    ],
    [
      'a variable the chart sets',
      {
        extraEnv: [
          { name: 'TZ', value: 'UTC' },
          { name: 'PATRONI_NAME', value: 'x' },
        ],
      },
      'invalid extraEnv[1].name: got "PATRONI_NAME", which the chart sets itself; any name but PATRONI_NAME,',
    ],
  ])('refuses %s, naming the value', (_name, values, message) => {
    expect(refused(values)).toContain(message);
  });
  it('has a helm test hook: a client Pod that must write through the read-write Service, with the mounted superuser password', () => {
    const hookOnly = ['--show-only', 'templates/tests/connection.yaml'];
    const [pod] = template({}, hookOnly);
    expect(pod!.kind).toBe('Pod');
    expect(pod!.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'test' });
    // The NetworkPolicy admits clients with this label.
    expect(pod!.metadata.labels).toMatchObject({ 'pgha.io/client': 'r' });
    const c = pod!.spec.containers[0];
    // The image's entrypoint runs (args only), so an arbitrary UID gets its passwd entry as the members do.
    expect(c.command).toBeUndefined();
    expect(c.args.join(' ')).toContain('host=${R_SERVICE_HOST:-r} port=5432 user=postgres');
    expect(c.args.join(' ')).toContain('CREATE TEMP TABLE');
    expect(pod!.spec.volumes).toContainEqual(expect.objectContaining({ secret: expect.objectContaining({ secretName: 'r-credentials' }) }));
    const [own] = template({ existingSecret: 'mine', image: { pullSecrets: ['regcred'] } }, hookOnly);
    expect(own!.spec.volumes).toContainEqual(expect.objectContaining({ secret: expect.objectContaining({ secretName: 'mine' }) }));
    expect(own!.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    // Not one of the release's objects: helm install (and template --skip-tests) leave it out.
    expect(template().map((o) => o.kind)).not.toContain('Pod');
  });
  it("renders a PodMonitor for the members' /metrics only with metrics.podMonitor.enabled, with its interval and labels", () => {
    expect(template().map((o) => o.kind)).not.toContain('PodMonitor');
    const objects = template({ metrics: { podMonitor: { enabled: true, interval: '15s', labels: { release: 'prometheus' } } } });
    const monitor = find(objects, 'PodMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.labels).toMatchObject({ release: 'prometheus', 'app.kubernetes.io/component': 'metrics' });
    // It selects the members as the StatefulSet does, and scrapes the port the agent's container names for its API.
    const sts = find(objects, 'StatefulSet');
    expect(monitor.spec.selector.matchLabels).toEqual(sts.spec.selector.matchLabels);
    expect(monitor.spec.podMetricsEndpoints).toEqual([{ port: 'api', path: '/metrics', interval: '15s' }]);
    expect(sts.spec.template.spec.containers[0].ports).toContainEqual(expect.objectContaining({ name: 'api', containerPort: 8008 }));
    expect(find(template({ metrics: { podMonitor: { enabled: true } } }), 'PodMonitor').spec.podMetricsEndpoints).toEqual([{ port: 'api', path: '/metrics' }]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'an interval Prometheus cannot read',
      { metrics: { podMonitor: { enabled: true, interval: 'fast' } } },
      "at '/metrics/podMonitor/interval': 'fast' does not match pattern",
    ],
    [
      'a PodMonitor label the chart sets',
      { metrics: { podMonitor: { enabled: true, labels: { 'helm.sh/chart': 'x' } } } },
      'invalid metrics.podMonitor.labels.helm.sh/chart: the chart sets that label itself',
    ],
  ])('refuses %s, naming the value', (_name, values, message) => {
    expect(refused(values)).toContain(message);
  });
});
