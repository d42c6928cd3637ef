import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { stringify } from 'yaml';
import { FIELDS } from '../../agent/src/config/schema';
import { ClusterCredentials, MAX_NAME_LENGTH, Persistence, Platform, PGHA_VERSION, StoreMode, type PostgresClusterProps } from '../../constructs';
import { defaultTerminationGrace, resolveClusterSpec } from '../../constructs/cluster-spec';
import { livenessTiming } from '../../constructs/postgres-stateful-set';
import { assertNoMarkers, markerPattern, modelObjects, type Parameter } from './parameters';

interface HelmParameter extends Parameter {
  /** The template expression of the value, without braces. */
  readonly expr: string;
}

/** Where each value lands in the model, and the Helm expression that replaces it. */
const PARAMS: Record<string, HelmParameter> = {
  clusterName: { marker: 'p0name0p', expr: 'include "pgha.scope" .' },
  image: { marker: 'p0image0p', expr: '.Values.image' },
  replicas: { marker: 7775, expr: '.Values.replicas' },
  storageSize: { marker: '7771Mi', expr: '.Values.storage.size' },
  cpuRequest: { marker: '7774m', expr: '.Values.resources.requests.cpu' },
  memoryRequest: { marker: '7772Mi', expr: '.Values.resources.requests.memory' },
  memoryLimit: { marker: '7773Mi', expr: '.Values.resources.limits.memory' },
  roleLabel: { marker: 'p0rolelabel0p', expr: '.Values.roleLabel' },
  leaderLabelValue: { marker: 'p0leader0p', expr: '.Values.leaderLabelValue' },
  followerLabelValue: { marker: 'p0follower0p', expr: '.Values.followerLabelValue' },
  // Timing markers satisfy the agent's own rule (1013 + 2 * 1019 <= 3517) so the model renders; Helm checks the real values.
  ttl: { marker: 3517, expr: '.Values.ttl' },
  loopWait: { marker: 1013, expr: '.Values.loopWait' },
  retryTimeout: { marker: 1019, expr: '.Values.retryTimeout' },
  superuserPassword: { marker: 'p0superuser0p', expr: 'include "pgha.password" (list . "superuser-password" .Values.credentials.superuserPassword)' },
  replicationPassword: { marker: 'p0replication0p', expr: 'include "pgha.password" (list . "replication-password" .Values.credentials.replicationPassword)' },
};
const STORAGE_CLASS_MARKER = 'p0storageclass0p';

/**
 * Values the model derives from parameters, with the same formula in Helm's template language. A test renders the
 * chart with other values and compares with the construct, so the two formulas cannot drift apart.
 */
const DERIVED: readonly { readonly value: number; readonly expr: string }[] = [
  { value: livenessTiming(m<number>('ttl')).periodSeconds, expr: 'max 1 (div (int .Values.ttl) 3)' },
  { value: defaultTerminationGrace(resolveClusterSpec('pgha', {}).shutdownTimeout, m<number>('retryTimeout')), expr: `add ${defaultTerminationGrace(resolveClusterSpec('pgha', {}).shutdownTimeout, 0)} (int .Values.retryTimeout)` },
];

/** Values that change which objects exist or their shape; every combination is rendered from the model. */
const SWITCHES = [
  { value: '.Values.useEndpoints', props: (on: boolean): PostgresClusterProps => ({ storeMode: on ? StoreMode.ENDPOINTS : StoreMode.CONFIG_MAPS }) },
  { value: '.Values.openshift', props: (on: boolean): PostgresClusterProps => ({ platform: on ? Platform.OPENSHIFT : Platform.KUBERNETES }) },
  {
    value: '.Values.storage.persistent',
    props: (on: boolean): PostgresClusterProps => (on ? { persistence: Persistence.PERSISTENT, storageClassName: STORAGE_CLASS_MARKER } : { persistence: Persistence.EPHEMERAL }),
  },
] as const;

function m<T>(name: string): T {
  return PARAMS[name]!.marker as unknown as T;
}

function markedProps(): PostgresClusterProps {
  return {
    name: m('clusterName'),
    image: m('image'),
    replicas: m('replicas'),
    storageSize: Size.mebibytes(Number.parseInt(m('storageSize'), 10)),
    cpuRequest: Cpu.millis(Number.parseInt(m('cpuRequest'), 10)),
    memoryRequest: Size.mebibytes(Number.parseInt(m('memoryRequest'), 10)),
    memoryLimit: Size.mebibytes(Number.parseInt(m('memoryLimit'), 10)),
    roleLabel: m('roleLabel'),
    leaderLabelValue: m('leaderLabelValue'),
    followerLabelValue: m('followerLabelValue'),
    ttl: Duration.seconds(m('ttl')),
    loopWait: Duration.seconds(m('loopWait')),
    retryTimeout: Duration.seconds(m('retryTimeout')),
    credentials: ClusterCredentials.fromPasswords({ superuser: m('superuserPassword'), replication: m('replicationPassword') }),
  };
}

/** Swaps markers in one object's YAML for Helm expressions; a string standing alone is quoted. */
function helmize(yamlText: string): string {
  let text = yamlText.replace(
    new RegExp(`^( *)storageClassName: ${STORAGE_CLASS_MARKER}$`, 'm'),
    '{{- with .Values.storage.className }}\n$1storageClassName: {{ . | quote }}\n{{- end }}',
  );
  for (const p of Object.values(PARAMS)) {
    if (typeof p.marker === 'string') {
      const alone = new RegExp(`^(\\s*(?:- )?(?:[^\\s:][^:\\n]*: )?)${p.marker}$`, 'gm');
      text = text.replace(alone, `$1{{ ${p.expr} | quote }}`);
    }
    text = text.replace(markerPattern(p.marker), `{{ ${p.expr} }}`);
  }
  for (const d of DERIVED) text = text.replace(markerPattern(d.value), `{{ ${d.expr} }}`);
  return text;
}

interface Variant {
  readonly switches: readonly boolean[];
  readonly text: string;
}

function condition(switches: readonly boolean[]): string {
  return `and ${switches.map((on, i) => (on ? SWITCHES[i]!.value : `(not ${SWITCHES[i]!.value})`)).join(' ')}`;
}

/** The simplest condition for a set of switch combinations: the fewest switches that decide it alone, else an `or`. */
function conditionFor(group: readonly (readonly boolean[])[], all: readonly (readonly boolean[])[]): string {
  const same = (a: readonly boolean[], b: readonly boolean[]) => a.every((v, j) => v === b[j]);
  for (const indices of combinations(SWITCHES.length).map((mask) => mask.flatMap((on, i) => (on ? [i] : []))).sort((a, b) => a.length - b.length)) {
    if (indices.length === 0) continue;
    const first = group[0]!;
    const matching = all.filter((c) => indices.every((i) => c[i] === first[i]));
    if (matching.length === group.length && matching.every((c) => group.some((g) => same(g, c)))) {
      const terms = indices.map((i) => (first[i] ? SWITCHES[i]!.value : `(not ${SWITCHES[i]!.value})`));
      return terms.length === 1 ? terms[0]!.replace(/^\((.*)\)$/, '$1') : `and ${terms.join(' ')}`;
    }
  }
  return group.length === 1 ? condition(group[0]!) : `or ${group.map((g) => `(${condition(g)})`).join(' ')}`;
}

function combinations(n: number): boolean[][] {
  if (n === 0) return [[]];
  return combinations(n - 1).flatMap((rest) => [[true, ...rest], [false, ...rest]]);
}

/** One template file per object; objects that differ between switch values get `if`/`else if` branches. */
function objectTemplates(): Record<string, string> {
  const all = combinations(SWITCHES.length);
  const byObject = new Map<string, Variant[]>();
  for (const switches of all) {
    const props = Object.assign({}, markedProps(), ...switches.map((on, i) => SWITCHES[i]!.props(on))) as PostgresClusterProps;
    for (const o of modelObjects(props)) {
      // The Secret outlives the release, as the PersistentVolumeClaims do: a reinstall onto the kept volumes must find
      // the passwords the data directories were made with (`lookup` reads them back).
      if (o.kind === 'Secret') o.metadata.annotations = { ...(o.metadata.annotations as Record<string, string> | undefined), 'helm.sh/resource-policy': 'keep' };
      const key = `${o.kind.toLowerCase()}${o.metadata.name.replace(String(m('clusterName')), '')}`;
      const list = byObject.get(key) ?? [];
      list.push({ switches, text: helmize(stringify(o, { lineWidth: 0 })) });
      byObject.set(key, list);
    }
  }
  const files: Record<string, string> = {};
  for (const [key, variants] of byObject) {
    const texts = [...new Set(variants.map((v) => v.text))];
    let body: string;
    if (texts.length === 1 && variants.length === all.length) {
      body = texts[0]!;
    } else {
      body = texts
        .map((t, i) => {
          if (i > 0 && i === texts.length - 1 && variants.length === all.length) return `{{- else }}\n${t}`;
          const cond = conditionFor(variants.filter((v) => v.text === t).map((v) => v.switches), all);
          return `{{- ${i === 0 ? 'if' : 'else if'} ${cond} }}\n${t}`;
        })
        .join('')
        .concat('{{- end }}\n');
    }
    if (key === 'configmap-pgha') body = `{{- include "pgha.checkTiming" . }}\n${body}`;
    files[`templates/${key}.yaml`] = body;
  }
  return files;
}

const HELPERS = `{{/* Generated by \`npm run synth\` from constructs/ — do not edit. */}}

{{/* The cluster name (the agent's scope): clusterName, or else the release name. */}}
{{- define "pgha.scope" -}}
{{- $name := .Values.clusterName | default .Release.Name -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]{0,${MAX_NAME_LENGTH - 2}}[a-z0-9])?$" $name) -}}
{{- fail (printf "invalid clusterName: got %q; must be a DNS label of at most ${MAX_NAME_LENGTH} characters (set clusterName when the release name is not one)" $name) -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{/* The agent's rule: a leader still retrying its renew must not see its lock expire. */}}
{{- define "pgha.checkTiming" -}}
{{- $need := add (int .Values.loopWait) (mul 2 (int .Values.retryTimeout)) -}}
{{- if gt (int $need) (int .Values.ttl) -}}
{{- fail (printf "invalid ttl: got %v; must be at least loopWait + 2 * retryTimeout = %v" .Values.ttl $need) -}}
{{- end -}}
{{- end -}}

{{/*
A password: the value given, else the one already in the release's Secret (so upgrades keep it), else a new random one.
Arguments: (list $root "<key in the Secret>" <given value>).
*/}}
{{- define "pgha.password" -}}
{{- $root := index . 0 -}}
{{- $key := index . 1 -}}
{{- $given := index . 2 -}}
{{- if $given -}}
{{- $given -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" $root.Release.Namespace (printf "%s-credentials" (include "pgha.scope" $root)) -}}
{{- if and $existing (hasKey ($existing.data | default dict) $key) -}}
{{- index $existing.data $key | b64dec -}}
{{- else -}}
{{- randAlphaNum 24 -}}
{{- end -}}
{{- end -}}
{{- end -}}
`;

const QUANTITY = '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$';
const CPU = '^([0-9]+m|[0-9]+(\\.[0-9]{1,3})?)$';
const LABEL_KEY = '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
const LABEL_VALUE = '^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';

function seconds(key: string, description: string) {
  const f = FIELDS.find((x) => x.key === key)!;
  return { type: 'integer', minimum: f.min, maximum: f.max, description };
}

function valuesSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'pgha chart values',
    type: 'object',
    additionalProperties: false,
    required: ['image', 'replicas', 'useEndpoints', 'openshift', 'storage', 'resources', 'roleLabel', 'leaderLabelValue', 'followerLabelValue', 'ttl', 'loopWait', 'retryTimeout', 'credentials'],
    properties: {
      clusterName: { type: 'string', pattern: `^([a-z0-9]([-a-z0-9]{0,${MAX_NAME_LENGTH - 2}}[a-z0-9])?)?$`, description: 'Cluster name (the agent\'s scope); empty means the release name.' },
      image: { type: 'string', pattern: '^\\S+$', description: 'Agent image.' },
      replicas: { type: 'integer', minimum: 1, description: 'Number of members.' },
      useEndpoints: { type: 'boolean', description: 'Endpoints store mode instead of ConfigMaps.' },
      openshift: { type: 'boolean', description: 'Leave runAsUser/fsGroup to the OpenShift SCC.' },
      storage: {
        type: 'object',
        additionalProperties: false,
        required: ['persistent', 'size'],
        properties: {
          persistent: { type: 'boolean', description: 'A PersistentVolumeClaim per member; false means emptyDir.' },
          size: { type: 'string', pattern: QUANTITY, description: 'Size of each data volume.' },
          className: { type: 'string', description: 'StorageClass; empty means the cluster default.' },
        },
      },
      resources: {
        type: 'object',
        additionalProperties: false,
        required: ['requests', 'limits'],
        properties: {
          requests: {
            type: 'object',
            additionalProperties: false,
            required: ['cpu', 'memory'],
            properties: { cpu: { type: ['string', 'number'], pattern: CPU, exclusiveMinimum: 0 }, memory: { type: 'string', pattern: QUANTITY } },
          },
          limits: { type: 'object', additionalProperties: false, required: ['memory'], properties: { memory: { type: 'string', pattern: QUANTITY } } },
        },
      },
      roleLabel: { type: 'string', pattern: LABEL_KEY, description: 'Pod label the agent sets to the member\'s role.' },
      leaderLabelValue: { type: 'string', pattern: LABEL_VALUE },
      followerLabelValue: { type: 'string', pattern: LABEL_VALUE },
      ttl: seconds('ttl', 'Leader lock validity, seconds; at least loopWait + 2 * retryTimeout.'),
      loopWait: seconds('loop_wait', 'HA loop period, seconds.'),
      retryTimeout: seconds('retry_timeout', 'Retry budget of API and PostgreSQL operations, seconds.'),
      credentials: {
        type: 'object',
        additionalProperties: false,
        properties: {
          superuserPassword: { type: 'string', description: 'Empty: kept from the existing Secret, or generated.' },
          replicationPassword: { type: 'string', description: 'Empty: kept from the existing Secret, or generated.' },
        },
      },
    },
  };
}

function valuesYaml(): string {
  // The construct's own defaults, so `helm install` and `new PostgresCluster()` agree.
  const d = resolveClusterSpec('pgha', {});
  return `# Generated by \`npm run synth\` from constructs/ — every value here drives the rendered objects.
# values.schema.json checks types and ranges; the templates check ttl >= loopWait + 2 * retryTimeout.

# Cluster name (the agent's scope; prefixes every object). Empty: the release name.
clusterName: ""
image: ${d.image}
replicas: ${d.replicas}
# Keep the leader lock in Endpoints (one atomic write moves lock and traffic) instead of ConfigMaps.
# Endpoints are deprecated since Kubernetes 1.33 and not an option on OpenShift.
useEndpoints: ${d.storeMode === StoreMode.ENDPOINTS}
# On OpenShift, leave runAsUser/fsGroup to the restricted-v2 SCC.
openshift: ${d.platform === Platform.OPENSHIFT}
storage:
  persistent: ${d.persistence === Persistence.PERSISTENT}
  size: ${d.storageSize}
  # Empty: the cluster's default StorageClass.
  className: ""
resources:
  requests:
    cpu: ${d.cpuRequest}
    memory: ${d.memoryRequest}
  limits:
    memory: ${d.memoryLimit}
# Pod label the agent keeps set to each member's role; the Services select on it.
roleLabel: ${d.roleLabel}
leaderLabelValue: ${d.leaderLabelValue}
followerLabelValue: ${d.followerLabelValue}
# Seconds. The leader lock expires ttl after the last renew any member saw.
ttl: ${d.ttl}
loopWait: ${d.loopWait}
retryTimeout: ${d.retryTimeout}
credentials:
  # Empty: kept from the release's existing Secret on upgrade, generated on first install.
  superuserPassword: ""
  replicationPassword: ""
`;
}

/** Every file of the chart, by path inside the chart directory. */
export function helmChartFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'Chart.yaml': stringify({
      apiVersion: 'v2',
      name: 'pgha',
      description: 'Highly available PostgreSQL run by the pgha agent (Patroni-compatible), generated from the PostgresCluster construct',
      type: 'application',
      version: PGHA_VERSION,
      appVersion: PGHA_VERSION,
      keywords: ['postgresql', 'high-availability', 'patroni'],
    }),
    'values.yaml': valuesYaml(),
    'values.schema.json': `${JSON.stringify(valuesSchema(), null, 2)}\n`,
    'templates/_helpers.tpl': HELPERS,
    'templates/NOTES.txt': `Cluster {{ include "pgha.scope" . }}: read-write Service {{ include "pgha.scope" . }}, read-only Service {{ include "pgha.scope" . }}-replicas.
Passwords are in Secret {{ include "pgha.scope" . }}-credentials (kept across upgrades).
`,
    ...objectTemplates(),
  };
  for (const [path, text] of Object.entries(files)) assertNoMarkers(text, PARAMS, `helm chart ${path}`);
  if (Object.values(files).some((t) => t.includes(STORAGE_CLASS_MARKER))) throw new Error('helm chart: storage class marker left in the output');
  return files;
}

