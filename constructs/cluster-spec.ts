import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-33';
import { FIELDS } from '../agent/src/config/schema';
import { ConfigError } from '../agent/src/errors';
import { hbaLines } from '../agent/src/postgres/hba';
import { normalizeParameters } from '../agent/src/postgres/settings';
import { AntiAffinity, Persistence, Platform, StorageAccessMode, StoreMode, type DedicatedNodes, type PostgresClusterProps } from './cluster-props';
import { ClusterCredentials } from './credentials';
import { DEFAULT_IMAGE } from './image';

/** Thrown at construction time for a prop the cluster cannot be built from. */
export class PropError extends Error {
  constructor(prop: string, value: unknown, allowed: string) {
    super(`invalid ${prop}: got ${JSON.stringify(value)}; ${allowed}`);
    this.name = 'PropError';
  }
}

/** Every prop resolved to its value, after validation. Times are whole seconds, sizes are Kubernetes quantities. */
export interface ClusterSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly replicas: number;
  readonly image: string;
  readonly storeMode: StoreMode;
  readonly platform: Platform;
  readonly persistence: Persistence;
  readonly storageSize: string;
  readonly storageClassName?: string;
  readonly storageAccessMode: StorageAccessMode;
  readonly cpuRequest: string;
  readonly cpuLimit?: string;
  readonly memoryRequest: string;
  readonly memoryLimit: string;
  readonly credentials: ClusterCredentials;
  readonly credentialsSecretName: string;
  /** The REST API's basic-auth user; absent when `restApiAuthentication` is off. */
  readonly restApiUsername?: string;
  readonly networkPolicy: boolean;
  readonly ttl: number;
  readonly loopWait: number;
  readonly retryTimeout: number;
  readonly shutdownTimeout: number;
  readonly terminationGracePeriod: number;
  readonly roleLabel: string;
  readonly leaderLabelValue: string;
  readonly followerLabelValue: string;
  readonly scopeLabel: string;
  readonly primaryServiceName: string;
  readonly replicasServiceName: string;
  readonly maxUnavailable: number;
  readonly antiAffinity: AntiAffinity;
  readonly dedicatedNodes?: DedicatedNodes;
  readonly bypassApiService: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** Lower-cased names, checked by the agent's own rules. */
  readonly postgresParameters: Readonly<Record<string, string | number | boolean>>;
  /** Client lines of pg_hba.conf; undefined: the agent's catch-all. */
  readonly pgHba?: readonly string[];
  /** Absent when synchronous mode is off. */
  readonly synchronous?: { readonly strict: boolean; readonly nodeCount: number };
}

/** Longest cluster name: leaves room for `-replicas`, Pod ordinals and the StatefulSet's revision-hash label. */
export const MAX_NAME_LENGTH = 50;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/**
 * Margin between the agent's own shutdown deadline (shutdownTimeout to stop PostgreSQL, then up to retryTimeout to
 * release the lock) and the kubelet's SIGKILL: time for the process to exit after its last request.
 */
const GRACE_MARGIN_SECONDS = 5;

/**
 * The Pods' grace period by default. The agent stops PostgreSQL within shutdownTimeout, then releases the lock within
 * retryTimeout: the kubelet must not SIGKILL it before, or a 0.01 s hand-over becomes a ttl expiry.
 */
export function defaultTerminationGrace(shutdownTimeout: number, retryTimeout: number): number {
  return shutdownTimeout + retryTimeout + GRACE_MARGIN_SECONDS;
}

function field(key: string) {
  const f = FIELDS.find((x) => x.key === key);
  if (!f) throw new Error(`agent configuration has no key ${key}`);
  return f;
}

/** Whole seconds within the agent's own bounds for `key`, so the construct refuses what the agent would. */
function seconds(prop: string, d: Duration | undefined, key: string): number {
  const f = field(key);
  if (d === undefined) return f.default as number;
  const s = d.toMilliseconds() / 1000;
  const min = f.min ?? 1;
  const max = f.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(s) || s < min || s > max) {
    throw new PropError(prop, `${s}s`, `must be a whole number of seconds from ${min} to ${max}`);
  }
  return s;
}

function dnsLabel(prop: string, value: string, max = 63): string {
  if (!DNS_LABEL.test(value) || value.length > max) {
    throw new PropError(
      prop,
      value,
      `must be a DNS label (lowercase letters, digits and '-', starting and ending with a letter or digit) of at most ${max} characters`,
    );
  }
  return value;
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function labelKey(prop: string, value: string): string {
  if (!LABEL_KEY.test(value)) throw new PropError(prop, value, 'must be a Kubernetes label key such as "role" or "example.com/role"');
  return value;
}

function labelValue(prop: string, value: string): string {
  if (!LABEL_VALUE.test(value) || value === '')
    throw new PropError(prop, value, 'must be a non-empty Kubernetes label value (at most 63 letters, digits, "-", "_" or ".")');
  return value;
}

/** A Size as a Kubernetes quantity in whole MiB (Gi when whole). */
export function sizeQuantity(prop: string, size: Size): string {
  const mib = size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
  if (!Number.isInteger(mib) || mib < 1)
    throw new PropError(prop, `${size.toKibibytes({ rounding: SizeRoundingBehavior.NONE })}Ki`, 'must be a whole number of MiB, at least 1Mi');
  return mib % 1024 === 0 ? `${mib / 1024}Gi` : `${mib}Mi`;
}

const CPU_QUANTITY = /^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$/;

function cpuQuantity(prop: string, cpu: Cpu): string {
  if (!CPU_QUANTITY.test(cpu.amount) || Number.parseFloat(cpu.amount) <= 0) {
    throw new PropError(prop, cpu.amount, 'must be a positive CPU amount such as Cpu.millis(250) or Cpu.units(1)');
  }
  return cpu.amount;
}

function bytes(quantity: string): number {
  const n = Number.parseInt(quantity, 10);
  return quantity.endsWith('Gi') ? n * 1024 : n;
}

/** Applies defaults and checks every prop and every rule between props; throws PropError on the first problem. */
export function resolveClusterSpec(id: string, props: PostgresClusterProps): ClusterSpec {
  const name = dnsLabel('name', props.name ?? id, MAX_NAME_LENGTH);
  if (props.namespace !== undefined) dnsLabel('namespace', props.namespace);

  const replicas = props.replicas ?? 3;
  if (!Number.isInteger(replicas) || replicas < 1) throw new PropError('replicas', replicas, 'must be a whole number of at least 1');

  const image = props.image ?? DEFAULT_IMAGE;
  if (image.trim() === '' || /\s/.test(image)) throw new PropError('image', image, 'must be a non-empty image reference without spaces');

  const storeMode = props.storeMode ?? StoreMode.CONFIG_MAPS;
  const persistence = props.persistence ?? Persistence.PERSISTENT;
  if (persistence === Persistence.EPHEMERAL && props.storageClassName !== undefined) {
    throw new PropError(
      'storageClassName',
      props.storageClassName,
      'conflicts with persistence EPHEMERAL (an emptyDir has no storage class); drop one of them',
    );
  }
  if (props.storageClassName !== undefined) dnsSubdomain('storageClassName', props.storageClassName);

  const ttl = seconds('ttl', props.ttl, 'ttl');
  const loopWait = seconds('loopWait', props.loopWait, 'loop_wait');
  const retryTimeout = seconds('retryTimeout', props.retryTimeout, 'retry_timeout');
  if (loopWait + 2 * retryTimeout > ttl) {
    // Otherwise a leader still retrying its renew could see its lock expire under it.
    throw new PropError('ttl', `${ttl}s`, `must be at least loopWait + 2 * retryTimeout = ${loopWait} + 2 * ${retryTimeout} = ${loopWait + 2 * retryTimeout}s`);
  }
  const shutdownTimeout = seconds('shutdownTimeout', props.shutdownTimeout, 'shutdown_timeout');
  const agentShutdown = shutdownTimeout + retryTimeout;
  const terminationGracePeriod =
    props.terminationGracePeriod !== undefined ? props.terminationGracePeriod.toMilliseconds() / 1000 : defaultTerminationGrace(shutdownTimeout, retryTimeout);
  if (!Number.isInteger(terminationGracePeriod) || terminationGracePeriod <= agentShutdown) {
    throw new PropError(
      'terminationGracePeriod',
      `${terminationGracePeriod}s`,
      `must be whole seconds greater than shutdownTimeout + retryTimeout = ${shutdownTimeout} + ${retryTimeout} = ${agentShutdown}s (the agent's own shutdown deadline), or the kubelet kills it before it releases the lock`,
    );
  }

  const maxUnavailable = props.maxUnavailable ?? 1;
  if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1 || maxUnavailable > replicas) {
    throw new PropError('maxUnavailable', maxUnavailable, `must be a whole number from 1 to replicas (${replicas}); 0 would block every node drain forever`);
  }

  const primaryServiceName = dnsLabel('primaryServiceName', props.primaryServiceName ?? name);
  if (storeMode === StoreMode.ENDPOINTS && primaryServiceName !== name) {
    throw new PropError(
      'primaryServiceName',
      primaryServiceName,
      `conflicts with storeMode ENDPOINTS, where the primary Service must be the cluster name "${name}" (the agent writes its Endpoints)`,
    );
  }
  const replicasServiceName = dnsLabel('replicasServiceName', props.replicasServiceName ?? `${name}-replicas`);
  if (replicasServiceName === primaryServiceName) throw new PropError('replicasServiceName', replicasServiceName, 'must differ from primaryServiceName');

  const bypassApiService = props.bypassApiService ?? false;
  if (bypassApiService && props.namespace === undefined) {
    throw new PropError('bypassApiService', true, "requires namespace, because its ClusterRoleBinding must name the service account's namespace");
  }

  const memoryRequest = sizeQuantity('memoryRequest', props.memoryRequest ?? Size.mebibytes(512));
  const memoryLimit = sizeQuantity('memoryLimit', props.memoryLimit ?? Size.gibibytes(1));
  if (bytes(memoryLimit) < bytes(memoryRequest)) throw new PropError('memoryLimit', memoryLimit, `must be at least memoryRequest (${memoryRequest})`);

  if (props.dedicatedNodes) {
    labelKey('dedicatedNodes.key', props.dedicatedNodes.key);
    labelValue('dedicatedNodes.value', props.dedicatedNodes.value);
  }
  for (const [k, v] of Object.entries(props.labels ?? {})) {
    labelKey(`labels key`, k);
    if (!LABEL_VALUE.test(v)) throw new PropError(`labels["${k}"]`, v, 'must be a Kubernetes label value');
  }

  const credentials = props.credentials ?? ClusterCredentials.fromSecret(`${name}-credentials`);
  if (credentials.secretName !== undefined) dnsSubdomain('credentials', credentials.secretName);
  const restApiUsername = restApiUser(props, credentials);

  return {
    postgresParameters: postgresParameters(props.postgresql?.parameters ?? {}),
    pgHba: props.postgresql?.pgHba && agentRule(() => hbaLines('postgresql.pgHba', props.postgresql?.pgHba)),
    synchronous: synchronousSettings(props, replicas),
    name,
    namespace: props.namespace,
    replicas,
    image,
    storeMode,
    platform: props.platform ?? Platform.KUBERNETES,
    persistence,
    storageSize: sizeQuantity('storageSize', props.storageSize ?? Size.gibibytes(10)),
    storageClassName: props.storageClassName,
    storageAccessMode: props.storageAccessMode ?? StorageAccessMode.READ_WRITE_ONCE,
    cpuRequest: cpuQuantity('cpuRequest', props.cpuRequest ?? Cpu.millis(250)),
    cpuLimit: props.cpuLimit && cpuQuantity('cpuLimit', props.cpuLimit),
    memoryRequest,
    memoryLimit,
    credentials,
    credentialsSecretName: credentials.secretName ?? `${name}-credentials`,
    restApiUsername,
    networkPolicy: props.networkPolicy ?? true,
    ttl,
    loopWait,
    retryTimeout,
    shutdownTimeout,
    terminationGracePeriod,
    roleLabel: labelKey('roleLabel', props.roleLabel ?? (field('kubernetes.role_label').default as string)),
    leaderLabelValue: labelValue('leaderLabelValue', props.leaderLabelValue ?? (field('kubernetes.leader_label_value').default as string)),
    followerLabelValue: labelValue('followerLabelValue', props.followerLabelValue ?? (field('kubernetes.follower_label_value').default as string)),
    scopeLabel: labelKey('scopeLabel', props.scopeLabel ?? (field('kubernetes.scope_label').default as string)),
    primaryServiceName,
    replicasServiceName,
    maxUnavailable,
    antiAffinity: props.antiAffinity ?? AntiAffinity.PREFERRED,
    dedicatedNodes: props.dedicatedNodes,
    bypassApiService,
    labels: { ...(props.labels ?? {}) },
  };
}

/** Runs one of the agent's own checks; its refusal becomes a PropError naming the same key. */
function agentRule<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new PropError(err.key, err.value, err.allowed);
  }
}

/** The agent's own check of `postgresql.parameters`; a refusal names the prop and the parameter. */
function postgresParameters(params: Readonly<Record<string, string | number | boolean>>): Record<string, string | number | boolean> {
  return agentRule(() => normalizeParameters(params));
}

/** What basic auth and HTTP allow in a user name, kept to characters no YAML or Helm quoting can mangle. */
export const API_USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,62}$/;
export const DEFAULT_RESTAPI_USERNAME = 'pgha';

/** The REST API's user, or undefined with authentication off; checks the passwords against that choice. */
function restApiUser(props: PostgresClusterProps, credentials: ClusterCredentials): string | undefined {
  const on = props.restApiAuthentication ?? true;
  const passwords = credentials.passwords;
  if (passwords && (passwords.superuser === '' || passwords.replication === '' || passwords.restApi === '')) {
    throw new PropError('credentials', '<empty password>', 'passwords must not be empty');
  }
  if (!on) {
    if (props.restApiUsername !== undefined) throw new PropError('restApiUsername', props.restApiUsername, 'requires restApiAuthentication: true');
    if (passwords?.restApi !== undefined)
      throw new PropError('credentials', '<restApi password>', 'a restApi password requires restApiAuthentication: true; drop one of them');
    return undefined;
  }
  if (passwords && passwords.restApi === undefined) {
    throw new PropError(
      'credentials',
      '<no restApi password>',
      'fromPasswords needs a restApi password while restApiAuthentication is on (the default); or set restApiAuthentication: false',
    );
  }
  const username = props.restApiUsername ?? DEFAULT_RESTAPI_USERNAME;
  if (!API_USERNAME.test(username)) {
    throw new PropError('restApiUsername', username, 'must be 1 to 63 letters, digits, ".", "_", "@" or "-", starting with a letter or digit');
  }
  return username;
}

function synchronousSettings(props: PostgresClusterProps, replicas: number): ClusterSpec['synchronous'] {
  if (!props.synchronousMode) {
    for (const [prop, value] of [
      ['synchronousModeStrict', props.synchronousModeStrict],
      ['synchronousNodeCount', props.synchronousNodeCount],
    ] as const) {
      if (value !== undefined && value !== false) throw new PropError(prop, value, 'requires synchronousMode: true');
    }
    return undefined;
  }
  const nodeCount = props.synchronousNodeCount ?? 1;
  const most = Math.max(1, replicas - 1);
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > most) {
    throw new PropError('synchronousNodeCount', nodeCount, `must be a whole number from 1 to replicas - 1 (${most})`);
  }
  return { strict: props.synchronousModeStrict ?? false, nodeCount };
}

function dnsSubdomain(prop: string, value: string): string {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value) || value.length > 253) {
    throw new PropError(prop, value, 'must be a DNS subdomain name (lowercase letters, digits, "-" and ".")');
  }
  return value;
}
