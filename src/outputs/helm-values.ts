// The chart's values (values.yaml and values.schema.json) and its release notes, from the construct's defaults and
// the agent's own bounds.
import { FIELDS } from '../../agent/src/config/schema';
import { SETTING_NAME } from '../../agent/src/postgres/conf-file';
import { PROTECTED_PARAMETERS } from '../../agent/src/postgres/settings';
import {
  CLIENT_LABEL,
  MAX_NAME_LENGTH,
  Persistence,
  Platform,
  REPLICATION_PASSWORD_KEY,
  RESTAPI_PASSWORD_KEY,
  StoreMode,
  SUPERUSER_PASSWORD_KEY,
} from '../../constructs';
import { API_PORT, POSTGRES_PORT } from '../../constructs/agent-config-file';
import { API_USERNAME, DEFAULT_RESTAPI_USERNAME, resolveClusterSpec } from '../../constructs/cluster-spec';

const QUANTITY = '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$';
const CPU = '^([0-9]+m|[0-9]+(\\.[0-9]{1,3})?)$';
const LABEL_KEY = '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
const LABEL_VALUE = '^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';

function seconds(key: string, description: string) {
  const f = FIELDS.find((x) => x.key === key)!;
  return { type: 'integer', minimum: f.min, maximum: f.max, description };
}

/** A pattern matching any of `names` exactly, in any letter case (JSON Schema patterns have no flags). */
function anyCase(names: readonly string[]): string {
  const letters = (n: string) => n.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`);
  return `^(${names.map(letters).join('|')})$`;
}

/** What the chart renders when image.pullPolicy and service.type are left alone: the model's own values. */
export const IMAGE_PULL_POLICY_DEFAULT = 'IfNotPresent';
export const SERVICE_TYPE_DEFAULT = 'ClusterIP';

/** A DNS subdomain: the name of a Secret, a PriorityClass, … */
const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$';
/** An annotation key: an optional DNS-subdomain prefix and a name like a label's. */
const ANNOTATION_KEY = '^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
const ENV_NAME = '^[-._a-zA-Z][-._a-zA-Z0-9]*$';

const stringMap = (keys: string, values: Record<string, unknown>, description: string) => ({
  type: 'object',
  description,
  propertyNames: { pattern: keys },
  additionalProperties: { type: 'string', ...values },
});

/** A Kubernetes object given as is: its own fields only, each checked for its JSON type; Kubernetes checks the rest. */
const fieldsOf = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  ...(required.length ? { required } : {}),
  properties,
});

const LABEL_SELECTOR = fieldsOf({
  matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
  matchExpressions: { type: 'array', items: { type: 'object' } },
});

/** The chart-wide Pod and Service values (not props of the model; helm-chart.ts puts them in place). */
function podAndServiceSchema(): Record<string, unknown> {
  return {
    image: {
      type: 'object',
      additionalProperties: false,
      required: ['repository', 'tag', 'pullPolicy'],
      properties: {
        repository: { type: 'string', pattern: '^[^\\s:@]+(:[0-9]+)?(/[^\\s:@]+)*$', description: 'Agent image repository, without the tag.' },
        tag: { type: ['string', 'integer'], pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$', description: 'Agent image tag.' },
        pullPolicy: { type: 'string', enum: ['IfNotPresent', 'Always', 'Never'], description: 'The container imagePullPolicy.' },
        pullSecrets: {
          type: 'array',
          items: { type: 'string', pattern: DNS_SUBDOMAIN },
          uniqueItems: true,
          description: "Names of Secrets (in the release's namespace) to pull the image with.",
        },
      },
    },
    nodeSelector: stringMap(LABEL_KEY, { pattern: '^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$' }, "Node labels the members' nodes must carry."),
    tolerations: {
      type: 'array',
      description: 'Pod tolerations, as in a Pod spec.',
      items: fieldsOf({
        key: { type: 'string' },
        operator: { type: 'string', enum: ['Exists', 'Equal'] },
        value: { type: 'string' },
        effect: { type: 'string', enum: ['', 'NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
        tolerationSeconds: { type: 'integer' },
      }),
    },
    affinity: {
      ...fieldsOf({ nodeAffinity: { type: 'object' }, podAffinity: { type: 'object' }, podAntiAffinity: { type: 'object' } }),
      description: "Pod affinity, as in a Pod spec; it replaces the chart's (members preferably on different nodes). Empty: the chart's.",
    },
    topologySpreadConstraints: {
      type: 'array',
      description: "Pod topology spread constraints, as in a Pod spec; labelSelector is yours to give (the members' labels).",
      items: fieldsOf(
        {
          maxSkew: { type: 'integer', minimum: 1 },
          topologyKey: { type: 'string', minLength: 1 },
          whenUnsatisfiable: { type: 'string', enum: ['DoNotSchedule', 'ScheduleAnyway'] },
          labelSelector: LABEL_SELECTOR,
          matchLabelKeys: { type: 'array', items: { type: 'string' } },
          minDomains: { type: 'integer', minimum: 1 },
          nodeAffinityPolicy: { type: 'string', enum: ['Honor', 'Ignore'] },
          nodeTaintsPolicy: { type: 'string', enum: ['Honor', 'Ignore'] },
        },
        ['maxSkew', 'topologyKey', 'whenUnsatisfiable'],
      ),
    },
    priorityClassName: {
      type: 'string',
      pattern: `(${DNS_SUBDOMAIN})|^$`,
      description: 'PriorityClass of the members; empty: none (the cluster default).',
    },
    podAnnotations: stringMap(ANNOTATION_KEY, {}, "Annotations added to the members' Pods."),
    podLabels: stringMap(
      LABEL_KEY,
      { pattern: '^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$' },
      "Labels added to the members' Pods (never to selectors).",
    ),
    extraEnv: {
      type: 'array',
      description: "Environment variables added to the agent's container, as in a container spec (name and value or valueFrom).",
      items: fieldsOf({ name: { type: 'string', pattern: ENV_NAME }, value: { type: 'string' }, valueFrom: { type: 'object' } }, ['name']),
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      required: ['podMonitor'],
      properties: {
        podMonitor: {
          type: 'object',
          additionalProperties: false,
          required: ['enabled'],
          properties: {
            enabled: { type: 'boolean', description: "A Prometheus Operator PodMonitor for the members' /metrics (needs the PodMonitor CRD)." },
            interval: { type: 'string', pattern: '^(([0-9]+(ms|s|m|h))+)?$', description: "Scrape interval, e.g. 30s; empty: the Prometheus' own." },
            labels: stringMap(LABEL_KEY, { pattern: LABEL_VALUE }, "Labels of the PodMonitor, e.g. the ones a Prometheus' podMonitorSelector matches."),
          },
        },
      },
    },
    service: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { type: 'string', enum: [SERVICE_TYPE_DEFAULT, 'NodePort', 'LoadBalancer'], description: 'Type of the read-write and read-only Services.' },
        annotations: stringMap(ANNOTATION_KEY, {}, 'Annotations of the read-write and read-only Services.'),
      },
    },
  };
}

/** The keys an existingSecret must hold. */
const SECRET_KEYS = `${SUPERUSER_PASSWORD_KEY}, ${REPLICATION_PASSWORD_KEY} and (with restApi.authentication.enabled) ${RESTAPI_PASSWORD_KEY}`;

/** values.schema.json: types and ranges of every value (Helm checks the rules between values in the templates). */
export function valuesSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'pgha chart values',
    type: 'object',
    additionalProperties: false,
    required: [
      'image',
      'replicas',
      'useEndpoints',
      'openshift',
      'storage',
      'resources',
      'roleLabel',
      'leaderLabelValue',
      'followerLabelValue',
      'ttl',
      'loopWait',
      'retryTimeout',
      'restApi',
      'networkPolicy',
      'credentials',
      'service',
      'metrics',
    ],
    properties: {
      clusterName: {
        type: 'string',
        pattern: `^([a-z0-9]([-a-z0-9]{0,${MAX_NAME_LENGTH - 2}}[a-z0-9])?)?$`,
        description: "Cluster name (the agent's scope); empty means the release name.",
      },
      ...podAndServiceSchema(),
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
            properties: {
              cpu: { type: ['string', 'number'], pattern: CPU, exclusiveMinimum: 0, description: 'CPU each member requests (the agent and PostgreSQL).' },
              memory: { type: 'string', pattern: QUANTITY, description: 'Memory each member requests.' },
            },
          },
          limits: {
            type: 'object',
            additionalProperties: false,
            required: ['memory'],
            properties: { memory: { type: 'string', pattern: QUANTITY, description: 'Memory limit of each member.' } },
          },
        },
      },
      roleLabel: { type: 'string', pattern: LABEL_KEY, description: "Pod label the agent sets to the member's role." },
      leaderLabelValue: { type: 'string', pattern: LABEL_VALUE, description: "roleLabel's value on the primary; the read-write Service selects it." },
      followerLabelValue: { type: 'string', pattern: LABEL_VALUE, description: "roleLabel's value on a running replica; the read-only Service selects it." },
      ttl: seconds('ttl', 'Leader lock validity, seconds; at least loopWait + 2 * retryTimeout.'),
      loopWait: seconds('loop_wait', 'HA loop period, seconds.'),
      retryTimeout: seconds('retry_timeout', 'Retry budget of API and PostgreSQL operations, seconds.'),
      postgresql: {
        type: 'object',
        additionalProperties: false,
        properties: {
          parameters: {
            type: 'object',
            description: 'PostgreSQL parameters for every member; a change restarts the members one at a time. Settings pgha manages are refused.',
            additionalProperties: { type: ['string', 'number', 'boolean'] },
            propertyNames: { pattern: SETTING_NAME.source, not: { pattern: anyCase([...PROTECTED_PARAMETERS]) } },
          },
          pgHba: {
            type: 'array',
            description: 'pg_hba.conf lines for clients; they replace the default rule (every role, scram-sha-256). Empty: the default.',
            items: { type: 'string', pattern: '^[^\\r\\n]*\\S[^\\r\\n]*$' },
          },
        },
      },
      synchronousMode: {
        type: 'boolean',
        description: 'Synchronous replication: no acknowledged commit is lost in a failover. Set when the cluster is created; later with pgha edit-config.',
      },
      synchronousModeStrict: { type: 'boolean', description: 'With synchronousMode: refuse writes while no synchronous standby is there.' },
      synchronousNodeCount: { type: 'integer', minimum: 1, description: 'With synchronousMode: synchronous standbys, at most replicas - 1.' },
      restApi: {
        type: 'object',
        additionalProperties: false,
        required: ['authentication'],
        properties: {
          authentication: {
            type: 'object',
            additionalProperties: false,
            required: ['enabled', 'username'],
            properties: {
              enabled: {
                type: 'boolean',
                description:
                  "Basic auth for the REST API's unsafe methods (switchover, restart, reinitialize, PATCH /config). Off: anything reaching port 8008 may use them.",
              },
              username: {
                type: 'string',
                pattern: API_USERNAME.source,
                description: 'The REST API user; the password is restapi-password in the credentials Secret.',
              },
            },
          },
        },
      },
      networkPolicy: {
        type: 'object',
        additionalProperties: false,
        required: ['enabled'],
        properties: {
          enabled: {
            type: 'boolean',
            description: `A NetworkPolicy: PostgreSQL and the REST API from the members, PostgreSQL from Pods labelled ${CLIENT_LABEL}=<cluster name>, nothing else.`,
          },
        },
      },
      existingSecret: {
        type: 'string',
        maxLength: 253,
        pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$',
        description: `A Secret of yours in the release's namespace, with the keys ${SECRET_KEYS}: the chart then renders no Secret and the members mount this one. Empty: the chart's own <cluster name>-credentials.`,
      },
      credentials: {
        type: 'object',
        additionalProperties: false,
        properties: {
          superuserPassword: { type: 'string', description: "Without existingSecret. Empty: kept from the release's Secret, or generated." },
          replicationPassword: { type: 'string', description: "Without existingSecret. Empty: kept from the release's Secret, or generated." },
          restApiPassword: {
            type: 'string',
            description: "With restApi.authentication.enabled, without existingSecret. Empty: kept from the release's Secret, or generated.",
          },
        },
      },
    },
  };
}

/** An image reference split into repository and tag (a reference without a tag is `latest`, as Kubernetes reads it). */
export function splitImage(image: string): { repository: string; tag: string } {
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? { repository: image.slice(0, colon), tag: image.slice(colon + 1) } : { repository: image, tag: 'latest' };
}

/** values.yaml, with the construct's own defaults. */
export function valuesYaml(): string {
  // The construct's own defaults, so `helm install` and `new PostgresCluster()` agree.
  const d = resolveClusterSpec('pgha', {});
  const image = splitImage(d.image);
  return `# Generated by \`npm run synth\` from constructs/ — every value here drives the rendered objects.
# values.schema.json checks types and ranges; the templates check ttl >= loopWait + 2 * retryTimeout.

# Cluster name (the agent's scope; prefixes every object). Empty: the release name.
clusterName: ""
image:
  repository: ${image.repository}
  tag: ${JSON.stringify(image.tag)}
  # IfNotPresent, Always or Never.
  pullPolicy: ${IMAGE_PULL_POLICY_DEFAULT}
  # Names of Secrets in the release's namespace holding registry credentials, e.g. [regcred].
  pullSecrets: []
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
# Where the members run, as in a Pod spec. nodeSelector: node labels the nodes must carry, e.g.
# kubernetes.io/hostname: node-1; tolerations: taints the members tolerate.
nodeSelector: {}
tolerations: []
# Replaces the chart's own affinity (members preferably on different nodes, by podAntiAffinity). Empty: the chart's.
affinity: {}
# Give each constraint its labelSelector, e.g. matchLabels {app.kubernetes.io/name: pgha, cluster-name: <cluster name>}.
topologySpreadConstraints: []
# PriorityClass of the members. Empty: none.
priorityClassName: ""
# Added to the members' Pods (labels never to selectors). The chart's own keys, and roleLabel, are refused.
podAnnotations: {}
podLabels: {}
# Added to the agent's environment, as in a container spec: [{name: TZ, value: UTC}] or with valueFrom.
# Names the chart sets itself (PATRONI_NAME, PATRONICTL_CONFIG_FILE, …) are refused.
extraEnv: []
# The read-write (<cluster name>) and read-only (<cluster name>-replicas) Services; the headless members Service stays as it is.
metrics:
  podMonitor:
    # A PodMonitor (Prometheus Operator, monitoring.coreos.com/v1) that scrapes every member's /metrics on the REST
    # API port ${API_PORT} (a GET: no credentials needed). The PodMonitor CRD must be installed. With
    # networkPolicy.enabled, admit your Prometheus to port ${API_PORT} with a NetworkPolicy of your own.
    enabled: false
    # Scrape interval, e.g. 30s; empty: the Prometheus' own.
    interval: ""
    # Labels of the PodMonitor, e.g. the ones a Prometheus' podMonitorSelector matches (release: prometheus).
    labels: {}
service:
  # ${SERVICE_TYPE_DEFAULT}, NodePort or LoadBalancer.
  type: ${SERVICE_TYPE_DEFAULT}
  # e.g. annotations a load balancer controller reads.
  annotations: {}
# Pod label the agent keeps set to each member's role; the Services select on it.
roleLabel: ${d.roleLabel}
leaderLabelValue: ${d.leaderLabelValue}
followerLabelValue: ${d.followerLabelValue}
# Seconds. The leader lock expires ttl after the last renew any member saw.
ttl: ${d.ttl}
loopWait: ${d.loopWait}
retryTimeout: ${d.retryTimeout}
postgresql:
  # PostgreSQL parameters for every member, e.g. max_connections: 200. A change restarts the members one at a time.
  # The dynamic configuration (pgha edit-config -p) overrides them cluster-wide.
  parameters: {}
  # pg_hba.conf lines for clients, e.g. ["hostssl all all 0.0.0.0/0 scram-sha-256"]; they replace the default rule
  # (every role from anywhere, scram-sha-256). The agent's own rows (superuser, replication) stay first. Empty: default.
  pgHba: []
# Synchronous replication (set when the cluster is created; change it later with pgha edit-config).
synchronousMode: false
synchronousModeStrict: false
synchronousNodeCount: 1
restApi:
  authentication:
    # Basic auth on the REST API's unsafe methods (switchover, failover, restart, reinitialize, PATCH /config).
    # Off: anything that reaches port 8008 may use them; keep it on unless only trusted Pods reach the members.
    enabled: ${d.restApiUsername !== undefined}
    # The password is ${RESTAPI_PASSWORD_KEY} in the Secret <cluster name>-credentials (credentials.restApiPassword).
    username: ${d.restApiUsername ?? DEFAULT_RESTAPI_USERNAME}
networkPolicy:
  # A NetworkPolicy admitting PostgreSQL and the REST API from the members, PostgreSQL from Pods labelled
  # ${CLIENT_LABEL}: <cluster name> in the release's namespace, and nothing else. Enforced only by a CNI that
  # implements NetworkPolicy; most let the node's own traffic (the kubelet's probes) through regardless.
  enabled: ${d.networkPolicy}
# A Secret you create (or sync with sealed-secrets or external-secrets) in the release's namespace, holding the keys
# ${SUPERUSER_PASSWORD_KEY}, ${REPLICATION_PASSWORD_KEY} and, with restApi.authentication.enabled, ${RESTAPI_PASSWORD_KEY}.
# Set: the chart renders no Secret, the members mount this one, and credentials must stay empty.
# Empty: the chart makes <cluster name>-credentials from credentials (kept on uninstall).
existingSecret: ""
credentials:
  # Without existingSecret. Empty: kept from the release's existing Secret on upgrade, generated on first install.
  superuserPassword: ""
  replicationPassword: ""
  restApiPassword: ""
`;
}

/** NOTES.txt: how to connect, where the passwords are and which label a client Pod needs. */
export const NOTES = `{{- $name := include "pgha.scope" . -}}
{{- $secret := include "pgha.credentialsSecret" . -}}
{{- $ns := .Release.Namespace -}}
Cluster {{ $name }}: {{ .Values.replicas }} members in namespace {{ $ns }}, PostgreSQL on port ${POSTGRES_PORT}.
  read-write: Service {{ $name }} (always the current primary)
  read-only:  Service {{ $name }}-replicas (the running replicas)
Connect as the superuser postgres, e.g. from a Pod in {{ $ns }}:
  psql "host={{ $name }}.{{ $ns }}.svc port=${POSTGRES_PORT} user=postgres"

{{ if .Values.existingSecret -}}
The passwords come from your Secret {{ $secret }} (existingSecret; the chart made none), which must hold the keys
${SUPERUSER_PASSWORD_KEY}, ${REPLICATION_PASSWORD_KEY}{{ if .Values.restApi.authentication.enabled }} and ${RESTAPI_PASSWORD_KEY}{{ end }}. The superuser's:
{{- else -}}
The passwords are in the Secret {{ $secret }} (kept across upgrades and on uninstall). The superuser's:
{{- end }}
  kubectl get secret -n {{ $ns }} {{ $secret }} -o jsonpath='{.data.${SUPERUSER_PASSWORD_KEY}}' | base64 -d
{{- if .Values.restApi.authentication.enabled }}

The REST API (port ${API_PORT}) takes changes only with basic auth: user {{ .Values.restApi.authentication.username }}, password ${RESTAPI_PASSWORD_KEY}:
  kubectl get secret -n {{ $ns }} {{ $secret }} -o jsonpath='{.data.${RESTAPI_PASSWORD_KEY}}' | base64 -d
In a member's Pod, pgha finds both by itself: kubectl exec -n {{ $ns }} {{ $name }}-0 -- pgha switchover --candidate <member>
{{- end }}
{{- if .Values.networkPolicy.enabled }}

The NetworkPolicy {{ $name }} admits PostgreSQL connections only from the members and from Pods in namespace
{{ $ns }} labelled ${CLIENT_LABEL}={{ $name }}; put that label on your clients' Pod template.
{{- end }}
`;
