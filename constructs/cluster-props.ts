import type { Duration, Size } from 'cdk8s';
import type { Cpu } from 'cdk8s-plus-33';
import type { ClusterCredentials } from './credentials';

/** Where the agent keeps the leader lock and the cluster state. */
export enum StoreMode {
  /** ConfigMaps `<scope>-leader`, `-config`, … ; the primary Service selects on the role label. Works everywhere, including OpenShift. */
  CONFIG_MAPS = 'configmaps',
  /** Endpoints `<scope>` hold the lock and route the primary Service in one write. Endpoints are deprecated since Kubernetes 1.33. */
  ENDPOINTS = 'endpoints',
}

/** Where PostgreSQL's data directory lives. */
export enum Persistence {
  /** One PersistentVolumeClaim per member, from `volumeClaimTemplates`. */
  PERSISTENT = 'persistent',
  /** An emptyDir: data is lost when a Pod is deleted (tests, demos, caches). */
  EPHEMERAL = 'ephemeral',
}

/** The platform whose admission rules the Pods must pass. */
export enum Platform {
  /** Pods run as a fixed non-root user and group (`runAsUser`/`fsGroup`). */
  KUBERNETES = 'kubernetes',
  /** No fixed `runAsUser`/`fsGroup`: the restricted-v2 SCC assigns them per namespace. */
  OPENSHIFT = 'openshift',
}

/** How strongly members are kept on different nodes. */
export enum AntiAffinity {
  /** The scheduler spreads members over nodes when it can. */
  PREFERRED = 'preferred',
  /** Two members never share a node; a member stays Pending rather than share. */
  REQUIRED = 'required',
  /** No anti-affinity. */
  NONE = 'none',
}

/** Access mode of the data volumes. */
export enum StorageAccessMode {
  READ_WRITE_ONCE = 'ReadWriteOnce',
  READ_WRITE_ONCE_POD = 'ReadWriteOncePod',
}

/** A node label (and taint with the same key and value) that marks nodes reserved for PostgreSQL. */
export interface DedicatedNodes {
  /** Label and taint key, e.g. `postgres`. */
  readonly key: string;
  /** Label and taint value, e.g. `dedicated`. */
  readonly value: string;
}

/** PostgreSQL's own settings for every member. */
export interface PostgresSettings {
  /**
   * Server parameters (`postgresql.conf` settings) for every member, written to the member configuration
   * (`postgresql.parameters`): a change rolls the StatefulSet, so every member starts with it. The dynamic
   * configuration (`pgha edit-config -p`) overrides them cluster-wide. Settings the agent manages itself
   * (`listen_addresses`, `port`, `primary_conninfo`, `synchronous_standby_names`, the log destination, …) are refused.
   * @default - none: PostgreSQL's defaults and the agent's own settings
   */
  readonly parameters?: Readonly<Record<string, string | number | boolean>>;
  /**
   * pg_hba.conf lines for clients (`postgresql.pg_hba` of the member configuration, as Patroni's): they replace the
   * agent's catch-all `host all all all scram-sha-256`; the agent's own rows (its superuser, the replication role)
   * stay first. At least one line; a change rolls the StatefulSet.
   * @default - every role from anywhere with scram-sha-256
   */
  readonly pgHba?: readonly string[];
}

export interface PostgresClusterProps {
  /**
   * Cluster name (the agent's `scope`); prefixes every object. A DNS label of at most 50 characters, so Pod and
   * Service names built from it stay valid.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Namespace for every namespaced object. Required with `bypassApiService`, whose ClusterRoleBinding names it.
   * @default - no namespace in the manifests: they go where they are applied
   */
  readonly namespace?: string;
  /** @default 3 */
  readonly replicas?: number;
  /** @default DEFAULT_IMAGE (`localhost/pgha-agent:<version>`) */
  readonly image?: string;
  /** @default StoreMode.CONFIG_MAPS */
  readonly storeMode?: StoreMode;
  /** @default Platform.KUBERNETES */
  readonly platform?: Platform;
  /** @default Persistence.PERSISTENT */
  readonly persistence?: Persistence;
  /** Size of each member's data volume (a whole number of MiB). @default Size.gibibytes(10) */
  readonly storageSize?: Size;
  /** @default - the cluster's default StorageClass */
  readonly storageClassName?: string;
  /** @default StorageAccessMode.READ_WRITE_ONCE */
  readonly storageAccessMode?: StorageAccessMode;
  /** @default Cpu.millis(250) */
  readonly cpuRequest?: Cpu;
  /** @default - no CPU limit (throttling a primary hurts more than it saves) */
  readonly cpuLimit?: Cpu;
  /** @default Size.mebibytes(512) */
  readonly memoryRequest?: Size;
  /** @default Size.gibibytes(1) */
  readonly memoryLimit?: Size;
  /**
   * Superuser, replication and REST API passwords.
   * @default ClusterCredentials.fromSecret(`<name>-credentials`), created by you
   */
  readonly credentials?: ClusterCredentials;
  /**
   * Basic auth on the agent's REST API (port 8008) for every method that changes something (POST `/switchover`,
   * `/failover`, `/restart`, `/reinitialize`, PATCH `/config`, …); GETs, the probes among them, stay open. The
   * password is the Secret's `restapi-password` key, mounted as a file (`PATRONI_RESTAPI_PASSWORD_FILE`); the user
   * is `restApiUsername`. `pgha` run in a member's Pod (`kubectl exec`) finds both by itself.
   * Off: anything that reaches port 8008 can switch over, pause the cluster or wipe a replica; keep it off only where
   * nothing untrusted reaches the Pods (with `networkPolicy`, only the members themselves reach the port).
   * @default true
   */
  readonly restApiAuthentication?: boolean;
  /**
   * The REST API's basic-auth user (`restapi.authentication.username` in the member file); 1 to 63 letters, digits,
   * `.`, `_`, `@` or `-`, starting with a letter or digit. Only with `restApiAuthentication`.
   * @default 'pgha'
   */
  readonly restApiUsername?: string;
  /**
   * A NetworkPolicy `<name>` selecting the member Pods: PostgreSQL (5432) and the REST API (8008) reachable from the
   * cluster's own members, PostgreSQL also from Pods in the same namespace labelled `pgha.io/client: <name>`
   * (`PostgresCluster.clientPodLabels`), no other ingress. Egress is not restricted. NetworkPolicies add up, so a
   * policy of your own can admit more (another namespace, a metrics scraper). The kubelet's probes come from the
   * node; most CNIs admit a node's traffic to its own Pods regardless of NetworkPolicy, check that yours does.
   * NetworkPolicy is enforced only by a CNI that implements it; elsewhere the object changes nothing.
   * @default true
   */
  readonly networkPolicy?: boolean;
  /** Leader lock validity. @default Duration.seconds(30) */
  readonly ttl?: Duration;
  /** HA loop period. @default Duration.seconds(10) */
  readonly loopWait?: Duration;
  /** How long an API or PostgreSQL operation is retried. @default Duration.seconds(10) */
  readonly retryTimeout?: Duration;
  /** How long the agent lets PostgreSQL stop on SIGTERM. @default Duration.seconds(25) */
  readonly shutdownTimeout?: Duration;
  /** Pod grace period; must exceed `shutdownTimeout`. @default - shutdownTimeout + 5 s */
  readonly terminationGracePeriod?: Duration;
  /** Pod label the agent sets to the member's role. @default 'role' */
  readonly roleLabel?: string;
  /** @default 'primary' */
  readonly leaderLabelValue?: string;
  /** @default 'replica' */
  readonly followerLabelValue?: string;
  /** Pod label whose value is the cluster name. @default 'cluster-name' */
  readonly scopeLabel?: string;
  /** Name of the read-write Service. In Endpoints mode it must be the cluster name. @default - the cluster name */
  readonly primaryServiceName?: string;
  /** Name of the read-only Service. @default `<name>-replicas` */
  readonly replicasServiceName?: string;
  /** Members the PodDisruptionBudget lets a drain take down at once; between 1 and `replicas`. @default 1 */
  readonly maxUnavailable?: number;
  /** @default AntiAffinity.PREFERRED */
  readonly antiAffinity?: AntiAffinity;
  /** Tolerate the taint and require the label that reserve nodes for PostgreSQL. @default - any node */
  readonly dedicatedNodes?: DedicatedNodes;
  /** Let the agent reach API servers directly (adds a ClusterRole to read `default/kubernetes` Endpoints). @default false */
  readonly bypassApiService?: boolean;
  /** Labels added to every object's metadata (never to selectors). @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** @default - no parameters of its own */
  readonly postgresql?: PostgresSettings;
  /**
   * Synchronous replication: a commit is acknowledged once a synchronous standby has it, and only a synchronous
   * standby may take over, so a failover loses no acknowledged commit. Written to the dynamic configuration when the
   * cluster is created (`bootstrap.dcs`, as Patroni does); change it later with `pgha edit-config`.
   * @default false
   */
  readonly synchronousMode?: boolean;
  /** With `synchronousMode`: refuse writes while no synchronous standby is there, instead of going asynchronous. @default false */
  readonly synchronousModeStrict?: boolean;
  /** With `synchronousMode`: how many synchronous standbys, from 1 to `replicas - 1`. @default 1 */
  readonly synchronousNodeCount?: number;
}
