import { Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { stringify } from 'yaml';
import {
  ClusterCredentials,
  MAX_NAME_LENGTH,
  Persistence,
  Platform,
  PGHA_VERSION,
  RESTAPI_PASSWORD_KEY,
  StoreMode,
  type PostgresClusterProps,
} from '../../constructs';
import { CONFIG_FILE_NAME } from '../../constructs/agent-config-file';
import { defaultTerminationGrace, resolveClusterSpec } from '../../constructs/cluster-spec';
import { CONFIG_DIGEST_ANNOTATION, livenessTiming } from '../../constructs/postgres-stateful-set';
import { IMAGE_PULL_POLICY_DEFAULT, NOTES, SERVICE_TYPE_DEFAULT, valuesSchema, valuesYaml } from './helm-values';
import { helmPodMonitor } from './helm-pod-monitor';
import { helmReadme } from './helm-readme';
import { helmTestHook } from './helm-test-hook';
import { assertNoMarkers, type Manifest, markerPattern, modelObjects, type Parameter } from './parameters';

interface HelmParameter extends Parameter {
  /** The template expression of the value, without braces. */
  readonly expr: string;
  /** A value the schema limits to a few plain words (an enum) is left unquoted, as the model writes it. */
  readonly plain?: boolean;
}

/** Where each value lands in the model, and the Helm expression that replaces it. */
const PARAMS: Record<string, HelmParameter> = {
  clusterName: { marker: 'p0name0p', expr: 'include "pgha.scope" .' },
  image: { marker: 'p0image0p', expr: 'include "pgha.image" .' },
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
  restApiUsername: { marker: 'p0apiuser0p', expr: '.Values.restApi.authentication.username' },
  restApiPassword: { marker: 'p0apipassword0p', expr: `include "pgha.password" (list . "${RESTAPI_PASSWORD_KEY}" .Values.credentials.restApiPassword)` },
  credentialsSecret: { marker: 'p0secret0p', expr: 'include "pgha.credentialsSecret" .' },
  // Not props of the model: helm-chart.ts sets them on the synthesized objects (`chartConventions`).
  imagePullPolicy: { marker: 'p0pullpolicy0p', expr: '.Values.image.pullPolicy', plain: true },
  serviceType: { marker: 'p0servicetype0p', expr: '.Values.service.type', plain: true },
  managedBy: { marker: 'p0managedby0p', expr: '.Release.Service' },
  chartLabel: { marker: 'p0chart0p', expr: 'include "pgha.chart" .' },
};
const STORAGE_CLASS_MARKER = 'p0storageclass0p';
// A parameter name standing for the whole `postgresql.parameters` map, and the synchronous node count (a number no
// other marker uses, at most replicas - 1).
const PG_PARAMETERS_MARKER = 'p0pgparameters0p';
const PG_HBA_MARKER = 'p0pghba0p';
const SYNC_NODE_COUNT_MARKER = 7769;

/**
 * Values the model derives from parameters, with the same formula in Helm's template language. A test renders the
 * chart with other values and compares with the construct, so the two formulas cannot drift apart.
 */
const DERIVED: readonly { readonly value: number; readonly expr: string }[] = [
  { value: livenessTiming(m<number>('ttl')).periodSeconds, expr: 'max 1 (div (int .Values.ttl) 3)' },
  {
    value: defaultTerminationGrace(resolveClusterSpec('pgha', {}).shutdownTimeout, m<number>('retryTimeout')),
    expr: `add ${defaultTerminationGrace(resolveClusterSpec('pgha', {}).shutdownTimeout, 0)} (int .Values.retryTimeout)`,
  },
];

/** Values that change which objects exist or their shape; every combination is rendered from the model. */
const SWITCHES = [
  { value: '.Values.useEndpoints', props: (on: boolean): PostgresClusterProps => ({ storeMode: on ? StoreMode.ENDPOINTS : StoreMode.CONFIG_MAPS }) },
  { value: '.Values.openshift', props: (on: boolean): PostgresClusterProps => ({ platform: on ? Platform.OPENSHIFT : Platform.KUBERNETES }) },
  {
    value: '.Values.storage.persistent',
    props: (on: boolean): PostgresClusterProps =>
      on ? { persistence: Persistence.PERSISTENT, storageClassName: STORAGE_CLASS_MARKER } : { persistence: Persistence.EPHEMERAL },
  },
  { value: '.Values.networkPolicy.enabled', props: (networkPolicy: boolean): PostgresClusterProps => ({ networkPolicy }) },
] as const;

/**
 * Values whose effect on every object is lines added (or an object added): rendered as `{{- if }}` around those
 * lines rather than as a second copy of each object. Each object is still rendered from the model both ways, and
 * the merge keeps each rendering exact (`inlineBranches`).
 */
const INLINE_SWITCHES = [
  {
    value: '.Values.restApi.authentication.enabled',
    props: (on: boolean): PostgresClusterProps =>
      on
        ? {}
        : {
            restApiAuthentication: false,
            restApiUsername: undefined,
            credentials: ClusterCredentials.fromPasswords({ superuser: m('superuserPassword'), replication: m('replicationPassword') }),
          },
  },
] as const;

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- T comes from where the marker goes: a placeholder for a prop of any type
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
    credentials: ClusterCredentials.fromPasswords({ superuser: m('superuserPassword'), replication: m('replicationPassword'), restApi: m('restApiPassword') }),
    restApiUsername: m('restApiUsername'),
    postgresql: { parameters: { [PG_PARAMETERS_MARKER]: PG_PARAMETERS_MARKER }, pgHba: [PG_HBA_MARKER] },
    synchronousMode: true,
    synchronousNodeCount: SYNC_NODE_COUNT_MARKER,
  };
}

/** Field-level parts of the member configuration and the Pod template that Helm fills from values. */
function helmizeSettings(text: string): string {
  return text
    .replace(new RegExp(`^( *)parameters:\n\\1  ${PG_PARAMETERS_MARKER}: ${PG_PARAMETERS_MARKER}$`, 'm'), (_all, indent: string) =>
      [`{{- with .Values.postgresql.parameters }}`, `${indent}parameters:`, `{{- toYaml . | nindent ${indent.length + 2} }}`, '{{- end }}'].join('\n'),
    )
    .replace(new RegExp(`^( *)pg_hba:\n\\1  - ${PG_HBA_MARKER}$`, 'm'), (_all, indent: string) =>
      [`{{- with .Values.postgresql.pgHba }}`, `${indent}pg_hba:`, `{{- toYaml . | nindent ${indent.length + 2} }}`, '{{- end }}'].join('\n'),
    )
    .replace(
      new RegExp(`^( *)synchronous_mode: true\n\\1synchronous_mode_strict: false\n\\1synchronous_node_count: ${SYNC_NODE_COUNT_MARKER}$`, 'm'),
      (_all, indent: string) =>
        [
          '{{- if .Values.synchronousMode }}',
          `${indent}synchronous_mode: true`,
          `${indent}synchronous_mode_strict: {{ .Values.synchronousModeStrict }}`,
          `${indent}synchronous_node_count: {{ .Values.synchronousNodeCount }}`,
          '{{- end }}',
        ].join('\n'),
    )
    .replace(
      new RegExp(`^( *)${CONFIG_DIGEST_ANNOTATION.replace(/[./]/g, '\\$&')}: [0-9a-f]{64}$`, 'm'),
      // The digest of the member file alone, as the model's: labels on the ConfigMap (helm.sh/chart) never roll the members.
      `$1${CONFIG_DIGEST_ANNOTATION}: {{ index (include (print $.Template.BasePath "/configmap-pgha.yaml") . | fromYaml).data ${JSON.stringify(CONFIG_FILE_NAME)} | sha256sum }}`,
    );
}

/** Swaps markers in one object's YAML for Helm expressions; a string standing alone is quoted. */
function helmize(yamlText: string): string {
  let text = helmizeSettings(yamlText).replace(
    new RegExp(`^( *)storageClassName: ${STORAGE_CLASS_MARKER}$`, 'm'),
    '{{- with .Values.storage.className }}\n$1storageClassName: {{ . | quote }}\n{{- end }}',
  );
  for (const p of Object.values(PARAMS)) {
    if (typeof p.marker === 'string' && !p.plain) {
      const alone = new RegExp(`^(\\s*(?:- )?(?:[^\\s:][^:\\n]*: )?)${p.marker}$`, 'gm');
      text = text.replace(alone, `$1{{ ${p.expr} | quote }}`);
    }
    text = text.replace(markerPattern(p.marker), `{{ ${p.expr} }}`);
  }
  for (const d of DERIVED) text = text.replace(markerPattern(d.value), `{{ ${d.expr} }}`);
  return text;
}

/**
 * A list or map value (nodeSelector, tolerations, …): a placeholder in the synthesized object, a map entry
 * `<marker>: <marker>` or a list item `- <marker>`, which `expandBlocks` replaces by a `{{- with }}` block at the
 * placeholder's own indentation. Lists and maps cannot stand where a string marker does.
 */
interface Block {
  readonly marker: string;
  /** The block's lines for a placeholder indented by `indent` spaces. */
  readonly lines: (indent: number) => string[];
}

const spaces = (n: number) => ' '.repeat(n);

/** `key:` and the value's YAML under it, only when the value is set; else the model's own `fallback`, if any. */
function keyBlock(marker: string, key: string, expr: string, fallback?: unknown): Block {
  return {
    marker,
    lines: (indent) => [
      `{{- with ${expr} }}`,
      `${spaces(indent)}${key}:`,
      `{{- toYaml . | nindent ${indent + 2} }}`,
      ...(fallback === undefined
        ? []
        : [
            '{{- else }}',
            `${spaces(indent)}${key}:`,
            ...stringify(fallback, { lineWidth: 0 })
              .trimEnd()
              .split('\n')
              .map((l) => `${spaces(indent + 2)}${l}`),
          ]),
      '{{- end }}',
    ],
  };
}

/** The value's entries (a map's keys, a list's items) added to the model's own map or list, when set. */
function entriesBlock(marker: string, expr: string): Block {
  return { marker, lines: (indent) => [`{{- with ${expr} }}`, `{{- toYaml . | nindent ${indent} }}`, '{{- end }}'] };
}

function expandBlocks(text: string, blocks: readonly Block[]): string {
  let out = text;
  for (const b of blocks) {
    const placeholder = new RegExp(`^( *)(?:${b.marker}: ${b.marker}|- ${b.marker})$`, 'gm');
    const found = out.match(placeholder)?.length ?? 0;
    if (found !== 1) throw new Error(`helm chart: placeholder ${b.marker} found ${found} times, expected once`);
    out = out.replace(placeholder, (_all, indent: string) => b.lines(indent.length).join('\n'));
  }
  return out;
}

const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
const CHART_LABEL = 'helm.sh/chart';

/** Pod spec fields the chart takes from values, by field name: each a placeholder in the synthesized Pod spec. */
const POD_SPEC_BLOCKS: Record<string, { readonly marker: string; readonly block: (fallback: unknown) => Block }> = {
  imagePullSecrets: {
    marker: 'p0pullsecrets0p',
    block: () => ({
      marker: 'p0pullsecrets0p',
      lines: (indent) => [
        '{{- with .Values.image.pullSecrets }}',
        `${spaces(indent)}imagePullSecrets:`,
        '{{- range . }}',
        `${spaces(indent + 2)}- name: {{ . | quote }}`,
        '{{- end }}',
        '{{- end }}',
      ],
    }),
  },
  priorityClassName: {
    marker: 'p0priorityclass0p',
    block: () => ({
      marker: 'p0priorityclass0p',
      lines: (indent) => ['{{- with .Values.priorityClassName }}', `${spaces(indent)}priorityClassName: {{ . | quote }}`, '{{- end }}'],
    }),
  },
  nodeSelector: { marker: 'p0nodeselector0p', block: () => keyBlock('p0nodeselector0p', 'nodeSelector', '.Values.nodeSelector') },
  // A given affinity replaces the model's (the members' preferred anti-affinity); none keeps it.
  affinity: { marker: 'p0affinity0p', block: (fallback) => keyBlock('p0affinity0p', 'affinity', '.Values.affinity', fallback) },
  tolerations: { marker: 'p0tolerations0p', block: () => keyBlock('p0tolerations0p', 'tolerations', '.Values.tolerations') },
  topologySpreadConstraints: {
    marker: 'p0topologyspread0p',
    block: () => keyBlock('p0topologyspread0p', 'topologySpreadConstraints', '.Values.topologySpreadConstraints'),
  },
};
const POD_ANNOTATIONS_MARKER = 'p0podannotations0p';
const POD_LABELS_MARKER = 'p0podlabels0p';
const EXTRA_ENV_MARKER = 'p0extraenv0p';
const SERVICE_ANNOTATIONS_MARKER = 'p0serviceannotations0p';

/** The parts of the synthesized objects the chart's conventions touch. */
interface PodTemplate {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: Record<string, unknown> & { containers: { imagePullPolicy?: string; env: unknown[] }[] };
}
type ServiceObject = Manifest & { metadata: { annotations?: unknown; [k: string]: unknown }; spec: { type?: string } };
type StatefulSetObject = Manifest & { spec: { template: PodTemplate } };

/**
 * The chart's own conventions on one synthesized object: the Helm labels on its metadata (never on selectors, Pod
 * templates or volume claim templates, which must not change between chart versions), and the values that are not
 * props of the model put where Kubernetes reads them. Returns the object and the blocks its placeholders stand for.
 */
function chartConventions(o: Manifest): { object: Manifest; blocks: Block[] } {
  const object = structuredClone(o);
  const blocks: Block[] = [];
  object.metadata.labels = { ...(object.metadata.labels as Record<string, string>), [MANAGED_BY_LABEL]: m('managedBy'), [CHART_LABEL]: m('chartLabel') };
  const cluster = m<string>('clusterName');
  if (object.kind === 'Service' && [cluster, `${cluster}-replicas`].includes(object.metadata.name)) {
    // The read-write and read-only Services: the clients' way in.
    const service = object as ServiceObject;
    if (service.spec.type !== SERVICE_TYPE_DEFAULT)
      throw new Error(`helm chart: the model's ${object.metadata.name} Service is no longer ${SERVICE_TYPE_DEFAULT}`);
    service.spec.type = m('serviceType');
    if (service.metadata.annotations !== undefined) throw new Error(`helm chart: the model's ${object.metadata.name} Service has annotations of its own`);
    service.metadata[SERVICE_ANNOTATIONS_MARKER] = SERVICE_ANNOTATIONS_MARKER;
    blocks.push(keyBlock(SERVICE_ANNOTATIONS_MARKER, 'annotations', '.Values.service.annotations'));
  }
  if (object.kind === 'StatefulSet') {
    const template = (object as StatefulSetObject).spec.template;
    template.metadata.labels[POD_LABELS_MARKER] = POD_LABELS_MARKER;
    template.metadata.annotations[POD_ANNOTATIONS_MARKER] = POD_ANNOTATIONS_MARKER;
    blocks.push(entriesBlock(POD_LABELS_MARKER, '.Values.podLabels'), entriesBlock(POD_ANNOTATIONS_MARKER, '.Values.podAnnotations'));
    const [container, ...others] = template.spec.containers;
    if (!container || others.length) throw new Error('helm chart: the model no longer has one container per Pod');
    if (container.imagePullPolicy !== IMAGE_PULL_POLICY_DEFAULT)
      throw new Error(`helm chart: the model's imagePullPolicy is no longer ${IMAGE_PULL_POLICY_DEFAULT}`);
    container.imagePullPolicy = m('imagePullPolicy');
    container.env = [...container.env, EXTRA_ENV_MARKER];
    blocks.push(entriesBlock(EXTRA_ENV_MARKER, '.Values.extraEnv'));
    // The Pod spec's fields in name order, as cdk8s writes them, with a placeholder for each the chart may add.
    const pod = template.spec;
    const fields = new Map<string, unknown>(Object.entries(pod));
    for (const [field, p] of Object.entries(POD_SPEC_BLOCKS)) {
      if (field !== 'affinity' && fields.has(field)) throw new Error(`helm chart: the model sets the Pod's ${field}; values could not add to it`);
      blocks.push(p.block(pod[field]));
      fields.set(field, p.marker);
    }
    template.spec = Object.fromEntries(
      [...fields.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([field, value]) => (POD_SPEC_BLOCKS[field] ? [value as string, value] : [field, value])),
    ) as PodTemplate['spec'];
  }
  return { object, blocks };
}

/** An object's template text: the chart's conventions applied, then the markers swapped for Helm expressions. */
function objectText(o: Manifest): string {
  const { object, blocks } = chartConventions(o);
  return helmize(expandBlocks(stringify(object, { lineWidth: 0 }), blocks));
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
  for (const indices of combinations(SWITCHES.length)
    .map((mask) => mask.flatMap((on, i) => (on ? [i] : [])))
    .sort((a, b) => a.length - b.length)) {
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
  return combinations(n - 1).flatMap((rest) => [
    [true, ...rest],
    [false, ...rest],
  ]);
}

const objectKey = (o: Manifest) => `${o.kind.toLowerCase()}${o.metadata.name.replace(String(m('clusterName')), '')}`;

/**
 * The chart's own credentials Secret, rendered only without `existingSecret`. It outlives the release, as the
 * PersistentVolumeClaims do: a reinstall onto the kept volumes must find the passwords the data directories were made
 * with (`lookup` reads them back).
 */
function generatedSecretText(secret: Manifest): string {
  secret.metadata.annotations = { ...(secret.metadata.annotations as Record<string, string> | undefined), 'helm.sh/resource-policy': 'keep' };
  return `{{- if not .Values.existingSecret }}\n${objectText(secret)}{{- end }}\n`;
}

/**
 * Each object's template text by file key (`statefulset`, `service-replicas`, …), for one set of props. The objects
 * referencing the Secret come from the model with the Secret given by name (`pgha.credentialsSecret`: existingSecret
 * or the chart's own); they must differ from the model with generated passwords by that name alone.
 */
function objectTexts(props: PostgresClusterProps): Map<string, string> {
  const texts = new Map<string, string>();
  const secretMarker = m<string>('credentialsSecret');
  const generated = modelObjects(props);
  const referencing = modelObjects({ ...props, credentials: ClusterCredentials.fromSecret(secretMarker) });
  for (const o of generated) {
    if (o.kind === 'Secret') {
      texts.set(objectKey(o), generatedSecretText(o));
      continue;
    }
    const ref = referencing.find((r) => r.kind === o.kind && r.metadata.name === o.metadata.name);
    const text = ref && stringify(ref, { lineWidth: 0 });
    if (!ref || text?.replace(markerPattern(secretMarker), `${m<string>('clusterName')}-credentials`) !== stringify(o, { lineWidth: 0 })) {
      throw new Error(`helm chart: existingSecret changes ${objectKey(o)} by more than the Secret's name`);
    }
    texts.set(objectKey(o), objectText(ref));
  }
  return texts;
}

/**
 * `more` with the lines `fewer` lacks wrapped in `{{- if cond }}` … `{{- end }}`, or undefined when `fewer` is not
 * `more` minus some lines. Whatever lines are matched, rendering gives `more` with the condition and `fewer` without.
 */
function wrapAddedLines(more: readonly string[], fewer: readonly string[], cond: string): string | undefined {
  const out: string[] = [];
  let j = 0;
  let open = false;
  for (const line of more) {
    const added = !(j < fewer.length && line === fewer[j]);
    if (added && !open) out.push(`{{- if ${cond} }}`);
    if (!added && open) out.push('{{- end }}');
    open = added;
    if (!added) j++;
    out.push(line);
  }
  if (open) out.push('{{- end }}');
  return j === fewer.length ? out.join('\n') : undefined;
}

/** The texts of INLINE_SWITCHES[from…] merged into one template text per object. */
function inlineBranches(props: PostgresClusterProps, from = 0): Map<string, string> {
  const sw = INLINE_SWITCHES[from];
  if (!sw) return objectTexts(props);
  const on = inlineBranches({ ...props, ...sw.props(true) }, from + 1);
  const off = inlineBranches({ ...props, ...sw.props(false) }, from + 1);
  const merged = new Map<string, string>();
  for (const key of new Set([...on.keys(), ...off.keys()])) {
    const [a, b] = [on.get(key) ?? '', off.get(key) ?? ''];
    const text = a === b ? a : (wrapAddedLines(a.split('\n'), b.split('\n'), sw.value) ?? wrapAddedLines(b.split('\n'), a.split('\n'), `not ${sw.value}`));
    if (text === undefined) throw new Error(`helm chart: ${sw.value} changes ${key} by more than added lines; make it one of SWITCHES`);
    merged.set(key, text);
  }
  return merged;
}

/** One template file per object; objects that differ between switch values get `if`/`else if` branches. */
function objectTemplates(): Record<string, string> {
  const all = combinations(SWITCHES.length);
  const byObject = new Map<string, Variant[]>();
  for (const switches of all) {
    const props = Object.assign({}, markedProps(), ...switches.map((on, i) => SWITCHES[i]!.props(on))) as PostgresClusterProps;
    for (const [key, text] of inlineBranches(props)) {
      const list = byObject.get(key) ?? [];
      list.push({ switches, text });
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
          const cond = conditionFor(
            variants.filter((v) => v.text === t).map((v) => v.switches),
            all,
          );
          return `{{- ${i === 0 ? 'if' : 'else if'} ${cond} }}\n${t}`;
        })
        .join('')
        .concat('{{- end }}\n');
    }
    if (key === 'configmap-pgha')
      body = `{{- include "pgha.checkTiming" . }}\n{{- include "pgha.checkSynchronous" . }}\n{{- include "pgha.checkCredentials" . }}\n{{- include "pgha.checkPodValues" . }}\n${body}`;
    files[`templates/${key}.yaml`] = body;
  }
  return files;
}

/** What the chart itself puts on the members' Pods, which podLabels, podAnnotations and extraEnv may add to but not replace. */
function podOwnKeys(): { labels: string[]; annotations: string[]; env: string[] } {
  const sts = modelObjects(markedProps()).find((o) => o.kind === 'StatefulSet') as StatefulSetObject | undefined;
  if (!sts) throw new Error('helm chart: the model has no StatefulSet');
  const template = sts.spec.template;
  return {
    labels: Object.keys(template.metadata.labels),
    annotations: Object.keys(template.metadata.annotations),
    env: (template.spec.containers[0]!.env as { name: string }[]).map((e) => e.name),
  };
}

const quoted = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(' ');

function helpers(): string {
  const own = podOwnKeys();
  return `{{/* Generated by \`npm run synth\` from constructs/ — do not edit. */}}

{{/* The agent image: image.repository and image.tag. */}}
{{- define "pgha.image" -}}
{{- printf "%s:%v" .Values.image.repository .Values.image.tag -}}
{{- end -}}

{{/* The helm.sh/chart label: the chart's name and version ("+" is not allowed in a label value). */}}
{{- define "pgha.chart" -}}
{{- printf "%s-%s" .Chart.Name (.Chart.Version | replace "+" "_") -}}
{{- end -}}

{{/* podLabels, podAnnotations and extraEnv add to what the chart (and the agent) put on the Pods, never replace it. */}}
{{- define "pgha.checkPodValues" -}}
{{- $labels := list ${quoted(own.labels)} .Values.roleLabel -}}
{{- range $key, $_ := .Values.podLabels -}}
{{- if has $key $labels -}}
{{- fail (printf "invalid podLabels.%s: the chart or the agent sets that Pod label itself; any key but %s" $key (join ", " $labels)) -}}
{{- end -}}
{{- end -}}
{{- $annotations := list ${quoted(own.annotations)} -}}
{{- range $key, $_ := .Values.podAnnotations -}}
{{- if has $key $annotations -}}
{{- fail (printf "invalid podAnnotations.%s: the chart sets that Pod annotation itself; any key but %s" $key (join ", " $annotations)) -}}
{{- end -}}
{{- end -}}
{{- $env := list ${quoted(own.env)} -}}
{{- range $i, $var := .Values.extraEnv -}}
{{- if has $var.name $env -}}
{{- fail (printf "invalid extraEnv[%d].name: got %q, which the chart sets itself; any name but %s" $i $var.name (join ", " $env)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

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

{{/* synchronousModeStrict and synchronousNodeCount need synchronousMode; at most replicas - 1 synchronous standbys. */}}
{{- define "pgha.checkSynchronous" -}}
{{- if not .Values.synchronousMode -}}
{{- if .Values.synchronousModeStrict -}}
{{- fail "invalid synchronousModeStrict: got true; requires synchronousMode: true" -}}
{{- end -}}
{{- if ne (int .Values.synchronousNodeCount) 1 -}}
{{- fail (printf "invalid synchronousNodeCount: got %v; requires synchronousMode: true" .Values.synchronousNodeCount) -}}
{{- end -}}
{{- else -}}
{{- $most := max 1 (sub (int .Values.replicas) 1) -}}
{{- if gt (int .Values.synchronousNodeCount) (int $most) -}}
{{- fail (printf "invalid synchronousNodeCount: got %v; must be a whole number from 1 to replicas - 1 (%v)" .Values.synchronousNodeCount $most) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The Secret the members read their passwords from: existingSecret, else the chart's own <cluster name>-credentials. */}}
{{- define "pgha.credentialsSecret" -}}
{{- .Values.existingSecret | default (printf "%s-credentials" (include "pgha.scope" .)) -}}
{{- end -}}

{{/* Passwords come from existingSecret or from credentials, never from both. */}}
{{- define "pgha.checkCredentials" -}}
{{- if .Values.existingSecret -}}
{{- range $key, $value := .Values.credentials -}}
{{- if $value -}}
{{- fail (printf "invalid credentials.%s: set together with existingSecret %q; the passwords come from that Secret, so leave credentials.%s empty" $key $.Values.existingSecret $key) -}}
{{- end -}}
{{- end -}}
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
    'README.md': helmReadme(valuesSchema(), valuesYaml()),
    'values.schema.json': `${JSON.stringify(valuesSchema(), null, 2)}\n`,
    'templates/_helpers.tpl': helpers(),
    'templates/NOTES.txt': NOTES,
    'templates/tests/connection.yaml': helmTestHook(),
    'templates/podmonitor.yaml': helmPodMonitor(),
    ...objectTemplates(),
  };
  for (const [path, text] of Object.entries(files)) assertNoMarkers(text, PARAMS, `helm chart ${path}`);
  for (const marker of [STORAGE_CLASS_MARKER, PG_PARAMETERS_MARKER, PG_HBA_MARKER]) {
    if (Object.values(files).some((t) => t.includes(marker))) throw new Error(`helm chart: marker ${marker} left in the output`);
  }
  return files;
}
