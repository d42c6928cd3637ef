/**
 * The agent's configuration keys: one table that drives loading (file and environment), validation, defaults and
 * the documentation in docs/configuration.md. Names follow Patroni's where a counterpart exists, so a Patroni
 * configuration file or environment carries over.
 */

export type FieldType = 'string' | 'integer' | 'boolean' | 'string-map' | 'ports' | 'integer-list' | 'parameters' | 'hba-lines' | 'command';

/** What a value of each type must be: load-config.ts refuses others with `must be <this>`, and docs/configuration.md lists it. */
export const TYPE_RULES: Readonly<Record<FieldType, string>> = {
  string: 'a non-empty string',
  integer: 'a whole number',
  boolean: 'true or false',
  'string-map': 'a map of strings to strings',
  ports: 'a non-empty list of {name, port} with port 1-65535',
  'integer-list': 'a list of HTTP status codes (100-599)',
  parameters: 'a map of PostgreSQL setting names to values',
  'hba-lines': 'a list of pg_hba.conf lines',
  command: 'a non-empty command line',
};

export interface FieldSpec {
  /** Dotted key in the YAML file, e.g. `kubernetes.use_endpoints`. */
  readonly key: string;
  readonly type: FieldType;
  /** Environment variable that overrides the file. */
  readonly env?: string;
  /** Used when neither file nor environment sets the key; `undefined` with `required` means it must be set. */
  readonly default?: unknown;
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** A regular expression the whole string must match, with a description for error messages. */
  readonly pattern?: { readonly re: RegExp; readonly describe: string };
  /** Secret values are never logged or echoed in errors. */
  readonly secret?: boolean;
  readonly doc: string;
}

/** RFC 1123 label: what Kubernetes accepts in object names built from the scope. */
import { CALLBACK_ACTIONS } from './callback-actions';

const DNS_LABEL = { re: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, describe: 'a DNS label (lowercase letters, digits and -, at most 63 characters)' };
const LABEL_KEY = { re: /^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, describe: 'a Kubernetes label key' };
const LABEL_VALUE = { re: /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, describe: 'a Kubernetes label value' };
const HOST_PORT = { re: /^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, describe: 'host:port' };

/** libpq's TLS and encryption options a role's connections to another member take (Patroni's names). */
export const LIBPQ_TLS_OPTIONS = ['sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'sslcrl', 'sslcrldir', 'gssencmode', 'channel_binding'] as const;
export type LibpqTlsOption = (typeof LIBPQ_TLS_OPTIONS)[number];

const ABSOLUTE_PATH = { re: /^\/\S*$/, describe: 'an absolute path' };
const oneOf = (...values: string[]) => ({ re: new RegExp(`^(${values.join('|')})$`), describe: `one of ${values.join(', ')}` });
const TLS_PATTERNS: Readonly<Record<LibpqTlsOption, { readonly re: RegExp; readonly describe: string }>> = {
  sslmode: oneOf('disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'),
  sslcert: ABSOLUTE_PATH,
  sslkey: ABSOLUTE_PATH,
  sslrootcert: ABSOLUTE_PATH,
  sslcrl: ABSOLUTE_PATH,
  sslcrldir: ABSOLUTE_PATH,
  gssencmode: oneOf('disable', 'prefer', 'require'),
  channel_binding: oneOf('disable', 'prefer', 'require'),
};

/** The TLS fields of one role: `postgresql.authentication.<role>.<option>`, env `PATRONI_<ROLE>_<OPTION>`. */
function tlsFields(role: 'superuser' | 'replication', usedFor: string): FieldSpec[] {
  return LIBPQ_TLS_OPTIONS.map((o) => ({
    key: `postgresql.authentication.${role}.${o}`,
    type: 'string' as const,
    env: `PATRONI_${role.toUpperCase()}_${o.toUpperCase()}`,
    pattern: TLS_PATTERNS[o],
    doc: `libpq \`${o}\` for ${usedFor}.${o === 'sslmode' ? ' @default prefer' : ''}`,
  }));
}

export const FIELDS: readonly FieldSpec[] = [
  { key: 'scope', type: 'string', env: 'PATRONI_SCOPE', required: true, pattern: DNS_LABEL, doc: 'Cluster name; prefixes every object the agent owns.' },
  { key: 'name', type: 'string', env: 'PATRONI_NAME', required: true, pattern: DNS_LABEL, doc: "This member's name; must equal its Pod name." },
  {
    key: 'namespace',
    type: 'string',
    env: 'PATRONI_KUBERNETES_NAMESPACE',
    default: 'default',
    pattern: DNS_LABEL,
    doc: "Namespace of the cluster's objects and Pods.",
  },

  {
    key: 'ttl',
    type: 'integer',
    env: 'PATRONI_TTL',
    default: 30,
    min: 5,
    max: 3600,
    doc: 'Seconds a leader lock stays valid after the last change any member observed.',
  },
  {
    key: 'loop_wait',
    type: 'integer',
    env: 'PATRONI_LOOP_WAIT',
    default: 10,
    min: 1,
    max: 3600,
    doc: 'Seconds between HA loop runs when nothing wakes the loop earlier.',
  },
  {
    key: 'retry_timeout',
    type: 'integer',
    env: 'PATRONI_RETRY_TIMEOUT',
    default: 10,
    min: 1,
    max: 3600,
    doc: 'Seconds an API or Postgres operation may be retried before it counts as failed.',
  },
  {
    key: 'maximum_lag_on_failover',
    type: 'integer',
    env: 'PATRONI_MAXIMUM_LAG_ON_FAILOVER',
    default: 1048576,
    min: 0,
    doc: 'Bytes a replica may lag behind the last known leader position and still be promoted.',
  },

  {
    key: 'kubernetes.use_endpoints',
    type: 'boolean',
    env: 'PATRONI_KUBERNETES_USE_ENDPOINTS',
    default: false,
    doc: 'Keep the leader lock on Endpoints `<scope>` (and route the primary Service through it) instead of ConfigMaps.',
  },
  {
    key: 'kubernetes.scope_label',
    type: 'string',
    env: 'PATRONI_KUBERNETES_SCOPE_LABEL',
    default: 'cluster-name',
    pattern: LABEL_KEY,
    doc: 'Label whose value is the scope, on every object and Pod of the cluster.',
  },
  {
    key: 'kubernetes.labels',
    type: 'string-map',
    env: 'PATRONI_KUBERNETES_LABELS',
    default: {},
    doc: "Extra labels that select the cluster's objects and Pods (JSON object in the environment).",
  },
  {
    key: 'kubernetes.role_label',
    type: 'string',
    env: 'PATRONI_KUBERNETES_ROLE_LABEL',
    default: 'role',
    pattern: LABEL_KEY,
    doc: 'Pod label that tells Services which member is the primary.',
  },
  {
    key: 'kubernetes.leader_label_value',
    type: 'string',
    env: 'PATRONI_KUBERNETES_LEADER_LABEL_VALUE',
    default: 'primary',
    pattern: LABEL_VALUE,
    doc: 'Role label value of the lock holder (Patroni 3.x used `master`).',
  },
  {
    key: 'kubernetes.follower_label_value',
    type: 'string',
    env: 'PATRONI_KUBERNETES_FOLLOWER_LABEL_VALUE',
    default: 'replica',
    pattern: LABEL_VALUE,
    doc: 'Role label value of a running replica.',
  },
  {
    key: 'kubernetes.standby_leader_label_value',
    type: 'string',
    env: 'PATRONI_KUBERNETES_STANDBY_LEADER_LABEL_VALUE',
    default: 'primary',
    pattern: LABEL_VALUE,
    doc: 'Role label value of the lock holder of a standby cluster.',
  },
  {
    key: 'kubernetes.tmp_role_label',
    type: 'string',
    env: 'PATRONI_KUBERNETES_TMP_ROLE_LABEL',
    pattern: LABEL_KEY,
    doc: 'A second role label kept in step with the first, for migrating Services from one label to another.',
  },
  {
    key: 'kubernetes.pod_ip',
    type: 'string',
    env: 'PATRONI_KUBERNETES_POD_IP',
    doc: "This Pod's IP (downward API); used for the leader Endpoints and member URLs.",
  },
  {
    key: 'kubernetes.ports',
    type: 'ports',
    env: 'PATRONI_KUBERNETES_PORTS',
    default: [{ name: 'postgresql', port: 5432 }],
    doc: "Ports written into the leader Endpoints; names must match the primary Service's ports (JSON list in the environment).",
  },
  {
    key: 'kubernetes.bypass_api_service',
    type: 'boolean',
    env: 'PATRONI_KUBERNETES_BYPASS_API_SERVICE',
    default: false,
    doc: 'Talk to API server IPs from `default/kubernetes` Endpoints directly instead of through the Service VIP.',
  },
  {
    key: 'kubernetes.retriable_http_codes',
    type: 'integer-list',
    env: 'PATRONI_KUBERNETES_RETRIABLE_HTTP_CODES',
    default: [],
    doc: 'HTTP codes retried in addition to 429, 500, 502, 503 and 504.',
  },
  { key: 'kubernetes.kubeconfig', type: 'string', env: 'KUBECONFIG', doc: 'Kubeconfig to use outside a Pod; in a Pod the service account is used.' },
  { key: 'kubernetes.context', type: 'string', env: 'PATRONI_KUBERNETES_CONTEXT', doc: "Kubeconfig context. @default the kubeconfig's current-context" },

  {
    key: 'restapi.listen',
    type: 'string',
    env: 'PATRONI_RESTAPI_LISTEN',
    default: '0.0.0.0:8008',
    pattern: HOST_PORT,
    doc: 'Address the REST API listens on.',
  },
  {
    key: 'restapi.connect_address',
    type: 'string',
    env: 'PATRONI_RESTAPI_CONNECT_ADDRESS',
    pattern: HOST_PORT,
    doc: 'Address other members use to reach this REST API. @default pod_ip:listen port',
  },
  { key: 'restapi.authentication.username', type: 'string', env: 'PATRONI_RESTAPI_USERNAME', doc: 'Basic-auth user required for unsafe REST methods.' },
  {
    key: 'restapi.authentication.password',
    type: 'string',
    env: 'PATRONI_RESTAPI_PASSWORD',
    secret: true,
    doc: 'Basic-auth password required for unsafe REST methods.',
  },
  {
    key: 'restapi.authentication.password_file',
    type: 'string',
    env: 'PATRONI_RESTAPI_PASSWORD_FILE',
    doc: 'File holding the basic-auth password (a mounted Secret); instead of password. Read at each unsafe request, so a rotated Secret takes effect without a restart.',
  },
  { key: 'restapi.certfile', type: 'string', env: 'PATRONI_RESTAPI_CERTFILE', doc: 'PEM certificate; with keyfile the REST API serves HTTPS.' },
  { key: 'restapi.keyfile', type: 'string', env: 'PATRONI_RESTAPI_KEYFILE', doc: 'PEM private key for certfile.' },

  {
    key: 'postgresql.listen',
    type: 'string',
    env: 'PATRONI_POSTGRESQL_LISTEN',
    default: '0.0.0.0:5432',
    pattern: HOST_PORT,
    doc: 'Address PostgreSQL listens on.',
  },
  {
    key: 'postgresql.connect_address',
    type: 'string',
    env: 'PATRONI_POSTGRESQL_CONNECT_ADDRESS',
    pattern: HOST_PORT,
    doc: 'Address other members use to reach this PostgreSQL. @default pod_ip:listen port',
  },
  { key: 'postgresql.data_dir', type: 'string', env: 'PATRONI_POSTGRESQL_DATA_DIR', default: '/var/lib/pgha/data', doc: 'PostgreSQL data directory.' },
  {
    key: 'postgresql.bin_dir',
    type: 'string',
    env: 'PATRONI_POSTGRESQL_BIN_DIR',
    default: '/usr/lib/postgresql/15/bin',
    doc: 'Directory of initdb, pg_ctl, postgres, pg_basebackup and pg_rewind.',
  },
  {
    key: 'postgresql.run_dir',
    type: 'string',
    env: 'PGHA_POSTGRESQL_RUN_DIR',
    doc: 'Directory for the unix socket and the password file, used only by the agent and PostgreSQL. @default - `pgha-run` next to the data directory',
  },
  {
    key: 'postgresql.run_as',
    type: 'string',
    env: 'PGHA_POSTGRESQL_RUN_AS',
    pattern: { re: /^\d+:\d+$/, describe: 'uid:gid' },
    doc: "Run PostgreSQL and its tools as this uid:gid (only when the agent runs as root, e.g. in tests; PostgreSQL refuses root). @default - the agent's own user",
  },
  {
    key: 'postgresql.use_pg_rewind',
    type: 'boolean',
    env: 'PATRONI_POSTGRESQL_USE_PG_REWIND',
    default: true,
    doc: 'Rewind a diverged former primary instead of re-cloning it.',
  },
  {
    key: 'postgresql.remove_data_directory_on_rewind_failure',
    type: 'boolean',
    default: false,
    doc: "When pg_rewind fails, remove the data directory and clone the leader again. Off: the member reports the failure and waits for `reinit` (Patroni's default).",
  },
  {
    key: 'postgresql.remove_data_directory_on_diverged_timelines',
    type: 'boolean',
    default: false,
    doc: "When a former primary diverged from the leader and use_pg_rewind is off, remove the data directory and clone again. Off: the member waits for `reinit` (Patroni's default).",
  },
  { key: 'postgresql.parameters', type: 'parameters', default: {}, doc: 'PostgreSQL settings for this member (dynamic settings belong in `<scope>-config`).' },
  {
    key: 'postgresql.pg_hba',
    type: 'hba-lines',
    env: 'PGHA_POSTGRESQL_PG_HBA',
    doc: "pg_hba.conf lines for clients, as Patroni's `postgresql.pg_hba`; wins over the dynamic one. The agent's own rows (its superuser and the replication role, scram-sha-256) stay first. @default - the dynamic `postgresql.pg_hba`, else `host all all all scram-sha-256`",
  },
  ...CALLBACK_ACTIONS.map((action): FieldSpec => ({
    key: `postgresql.callbacks.${action}`,
    type: 'command',
    doc: `Command run without waiting, as Patroni's callbacks: its words (split as a shell would, nothing expanded) then \`${action} <role> <scope>\`, role \`primary\` or \`replica\`. One callback runs at a time; a new one ends the one still running.`,
  })),
  {
    key: 'postgresql.authentication.superuser.username',
    type: 'string',
    env: 'PATRONI_SUPERUSER_USERNAME',
    default: 'postgres',
    doc: 'Superuser the agent connects as.',
  },
  {
    key: 'postgresql.authentication.superuser.password',
    type: 'string',
    env: 'PATRONI_SUPERUSER_PASSWORD',
    secret: true,
    doc: 'Superuser password (or use password_file).',
  },
  {
    key: 'postgresql.authentication.superuser.password_file',
    type: 'string',
    env: 'PATRONI_SUPERUSER_PASSWORD_FILE',
    doc: 'File holding the superuser password (a mounted Secret). Read again every loop: a changed password is set in the database by the primary.',
  },
  {
    key: 'postgresql.authentication.replication.username',
    type: 'string',
    env: 'PATRONI_REPLICATION_USERNAME',
    default: 'replicator',
    doc: 'Role replicas stream as.',
  },
  {
    key: 'postgresql.authentication.replication.password',
    type: 'string',
    env: 'PATRONI_REPLICATION_PASSWORD',
    secret: true,
    doc: 'Replication password (or use password_file).',
  },
  {
    key: 'postgresql.authentication.replication.password_file',
    type: 'string',
    env: 'PATRONI_REPLICATION_PASSWORD_FILE',
    doc: 'File holding the replication password (a mounted Secret). Read again every loop: a changed password is set in the database by the primary.',
  },
  ...tlsFields('replication', "a replica's streaming connection (`primary_conninfo`) and pg_basebackup's"),
  ...tlsFields('superuser', "pg_rewind's connection to the member it rewinds from (the agent's own connections use the local socket)"),

  { key: 'tags.nofailover', type: 'boolean', env: 'PATRONI_NOFAILOVER', default: false, doc: 'Never promote this member.' },
  {
    key: 'tags.failover_priority',
    type: 'integer',
    env: 'PATRONI_FAILOVER_PRIORITY',
    default: 1,
    min: 0,
    doc: 'Higher wins ties between equally advanced candidates; 0 means never promote.',
  },
  {
    key: 'tags.noloadbalance',
    type: 'boolean',
    env: 'PATRONI_NOLOADBALANCE',
    default: false,
    doc: '`GET /replica` answers 503, taking the member out of read load balancing.',
  },
  { key: 'tags.nosync', type: 'boolean', env: 'PATRONI_NOSYNC', default: false, doc: 'Never choose this member as a synchronous standby.' },

  {
    key: 'primary_start_timeout',
    type: 'integer',
    env: 'PATRONI_PRIMARY_START_TIMEOUT',
    default: 30,
    min: 0,
    max: 3600,
    doc: 'Seconds a crashed primary may take to come back before its lock is released for a failover (Patroni defaults to 300).',
  },
  {
    key: 'shutdown_timeout',
    type: 'integer',
    env: 'PGHA_SHUTDOWN_TIMEOUT',
    default: 25,
    min: 1,
    max: 3600,
    doc: "Seconds the agent allows PostgreSQL to stop on SIGTERM; keep it below the Pod's terminationGracePeriodSeconds.",
  },
];

/** Sections whose keys are free-form and not checked against FIELDS. */
export const OPEN_SECTIONS: readonly string[] = ['postgresql.parameters', 'kubernetes.labels', 'bootstrap'];
