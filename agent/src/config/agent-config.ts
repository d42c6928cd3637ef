import { CALLBACK_ACTIONS, type CallbackAction } from './callback-actions';
import { readFileSync } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { ConfigError } from '../errors';
import { type ConfigSources, type FlatConfig, loadFlatConfig } from './load-config';
import { FIELDS, LIBPQ_TLS_OPTIONS, type LibpqTlsOption } from './schema';

export interface PortSpec {
  readonly name?: string;
  readonly port: number;
}

export interface Credentials {
  readonly username: string;
  /** As configured, or as `passwordFile` held when the configuration was loaded. */
  readonly password: string;
  /** `password_file`, when the password came from one: the agent reads it again to follow a rotated Secret. */
  readonly passwordFile?: string;
}

/** A PostgreSQL role the agent connects to other members as, with the libpq TLS options of those connections. */
export interface PgRole extends Credentials {
  /** `sslmode`, `sslrootcert`, …, as set; the agent uses `sslmode=prefer` when none is. */
  readonly tls: Readonly<Partial<Record<LibpqTlsOption, string>>>;
}

/** The agent's validated configuration. Times are seconds, as in the file. */
export interface AgentConfig {
  readonly scope: string;
  readonly name: string;
  readonly namespace: string;
  readonly ttl: number;
  readonly loopWait: number;
  readonly retryTimeout: number;
  readonly maximumLagOnFailover: number;
  readonly shutdownTimeout: number;
  readonly primaryStartTimeout: number;
  readonly kubernetes: {
    readonly useEndpoints: boolean;
    readonly scopeLabel: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly roleLabel: string;
    readonly leaderLabelValue: string;
    readonly followerLabelValue: string;
    readonly standbyLeaderLabelValue: string;
    readonly tmpRoleLabel?: string;
    readonly podIp?: string;
    readonly ports: readonly PortSpec[];
    readonly bypassApiService: boolean;
    readonly retriableHttpCodes: readonly number[];
    readonly kubeconfig?: string;
    readonly context?: string;
  };
  readonly restapi: {
    readonly listen: string;
    readonly connectAddress: string;
    readonly authentication?: Credentials;
    readonly certfile?: string;
    readonly keyfile?: string;
  };
  readonly postgresql: {
    readonly listen: string;
    readonly connectAddress: string;
    readonly dataDir: string;
    readonly binDir: string;
    readonly usePgRewind: boolean;
    readonly removeDataDirectoryOnRewindFailure: boolean;
    readonly removeDataDirectoryOnDivergedTimelines: boolean;
    /** @default - `pgha-run` next to the data directory */
    readonly runDir?: string;
    /** `uid:gid`, when the agent runs as root. */
    readonly runAs?: string;
    readonly parameters: Readonly<Record<string, string | number | boolean>>;
    /** Client lines of pg_hba.conf (`postgresql.pg_hba`); undefined: the dynamic ones, else the agent's catch-all. */
    readonly pgHba?: readonly string[];
    /** `postgresql.callbacks`: the command line per action (see ha/callbacks.ts). */
    readonly callbacks: Readonly<Partial<Record<CallbackAction, string>>>;
    readonly superuser: PgRole;
    readonly replication: PgRole;
  };
  readonly tags: {
    readonly nofailover: boolean;
    readonly failoverPriority: number;
    readonly noloadbalance: boolean;
    readonly nosync: boolean;
  };
  /** `bootstrap.dcs`: the dynamic configuration written to `<scope>-config` by the member that initializes the cluster. */
  readonly bootstrapDcs: Readonly<Record<string, unknown>>;
}

function port(address: string): string {
  return address.slice(address.lastIndexOf(':') + 1);
}

function hostPart(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

/** A password file's secret: its text with one trailing newline dropped (what `echo pw > file` and Secrets leave). */
export function readPasswordFile(path: string, readFile: (p: string) => string): string {
  return readFile(path).replace(/\r?\n$/, '');
}

function apiCredentials(username: string, password: string, passwordFile: string | undefined): Credentials {
  return { username, password, ...(passwordFile === undefined ? {} : { passwordFile }) };
}

/**
 * A password file read again (a rotated Secret): its secret, or why it cannot be used (`empty`, `unreadable (ENOENT)`),
 * so the caller keeps the password in force.
 */
export function rereadPasswordFile(path: string, readFile: (p: string) => string): { password: string } | { why: string } {
  try {
    const password = readPasswordFile(path, readFile);
    return password === '' ? { why: 'empty' } : { password };
  } catch (err) {
    return { why: `unreadable (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
}

/** Password from `password` or `password_file`, never both; the file is read here, at load. */
function password(flat: FlatConfig, prefix: string, readFile: (p: string) => string): string | undefined {
  const inline = flat.get(`${prefix}.password`) as string | undefined;
  const file = flat.get(`${prefix}.password_file`) as string | undefined;
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError(`${prefix}.password_file`, file, `conflicts with ${prefix}.password; set only one`);
  }
  if (file === undefined) return inline;
  try {
    return readPasswordFile(file, readFile);
  } catch (err) {
    throw new ConfigError(`${prefix}.password_file`, file, `must be a readable file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Builds the typed configuration and checks the rules that span keys:
 * `loop_wait + 2 * retry_timeout <= ttl` (otherwise a leader could lose its lock while still retrying a renew),
 * credentials present, TLS files paired, connect addresses derivable.
 */
export function buildAgentConfig(flat: FlatConfig, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): AgentConfig {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- each call names the type the schema gave its key
  const get = <T>(key: string) => flat.get(key) as T;
  const ttl = get<number>('ttl');
  const loopWait = get<number>('loop_wait');
  const retryTimeout = get<number>('retry_timeout');
  if (loopWait + 2 * retryTimeout > ttl) {
    throw new ConfigError('ttl', ttl, `must be at least loop_wait + 2 * retry_timeout = ${loopWait} + 2 * ${retryTimeout} = ${loopWait + 2 * retryTimeout}`);
  }
  const podIp = get<string | undefined>('kubernetes.pod_ip');
  const connect = (section: string) => {
    const explicit = get<string | undefined>(`${section}.connect_address`);
    if (explicit) return explicit;
    if (!podIp) throw new ConfigError(`${section}.connect_address`, undefined, 'is required when kubernetes.pod_ip (PATRONI_KUBERNETES_POD_IP) is not set');
    return `${hostPart(podIp)}:${port(get<string>(`${section}.listen`))}`;
  };
  const credentials = (prefix: string): Credentials => {
    const pw = password(flat, prefix, readFile);
    if (pw === undefined || pw === '') throw new ConfigError(`${prefix}.password`, undefined, `is required (or ${prefix}.password_file)`);
    const file = get<string | undefined>(`${prefix}.password_file`);
    return { username: get<string>(`${prefix}.username`), password: pw, ...(file === undefined ? {} : { passwordFile: file }) };
  };
  const pgRole = (prefix: string): PgRole => ({
    ...credentials(prefix),
    tls: Object.fromEntries(
      LIBPQ_TLS_OPTIONS.flatMap((o) => (get<string | undefined>(`${prefix}.${o}`) === undefined ? [] : [[o, get<string>(`${prefix}.${o}`)]])),
    ),
  });
  const apiUser = get<string | undefined>('restapi.authentication.username');
  const apiPassword = password(flat, 'restapi.authentication', readFile) || undefined;
  if ((apiUser === undefined) !== (apiPassword === undefined)) {
    throw new ConfigError('restapi.authentication', apiUser === undefined ? 'password only' : 'username only', 'needs both username and password, or neither');
  }
  const certfile = get<string | undefined>('restapi.certfile');
  const keyfile = get<string | undefined>('restapi.keyfile');
  if ((certfile === undefined) !== (keyfile === undefined)) {
    throw new ConfigError(
      certfile === undefined ? 'restapi.keyfile' : 'restapi.certfile',
      certfile ?? keyfile,
      'restapi.certfile and restapi.keyfile must be set together',
    );
  }
  const bootstrap = get<Record<string, unknown> | undefined>('bootstrap') ?? {};
  const dcs = bootstrap.dcs;
  if (dcs !== undefined && (typeof dcs !== 'object' || dcs === null || Array.isArray(dcs))) {
    throw new ConfigError('bootstrap.dcs', dcs, 'must be a mapping of dynamic configuration keys');
  }
  return {
    scope: get('scope'),
    name: get('name'),
    namespace: get('namespace'),
    ttl,
    loopWait,
    retryTimeout,
    maximumLagOnFailover: get('maximum_lag_on_failover'),
    shutdownTimeout: get('shutdown_timeout'),
    primaryStartTimeout: get('primary_start_timeout'),
    kubernetes: {
      useEndpoints: get('kubernetes.use_endpoints'),
      scopeLabel: get('kubernetes.scope_label'),
      labels: get('kubernetes.labels'),
      roleLabel: get('kubernetes.role_label'),
      leaderLabelValue: get('kubernetes.leader_label_value'),
      followerLabelValue: get('kubernetes.follower_label_value'),
      standbyLeaderLabelValue: get('kubernetes.standby_leader_label_value'),
      tmpRoleLabel: get('kubernetes.tmp_role_label'),
      podIp,
      ports: get('kubernetes.ports'),
      bypassApiService: get('kubernetes.bypass_api_service'),
      retriableHttpCodes: get('kubernetes.retriable_http_codes'),
      kubeconfig: get('kubernetes.kubeconfig'),
      context: get('kubernetes.context'),
    },
    restapi: {
      listen: get('restapi.listen'),
      connectAddress: connect('restapi'),
      authentication:
        apiUser !== undefined ? apiCredentials(apiUser, apiPassword!, get<string | undefined>('restapi.authentication.password_file')) : undefined,
      certfile,
      keyfile,
    },
    postgresql: {
      listen: get('postgresql.listen'),
      connectAddress: connect('postgresql'),
      dataDir: get('postgresql.data_dir'),
      binDir: get('postgresql.bin_dir'),
      usePgRewind: get('postgresql.use_pg_rewind'),
      removeDataDirectoryOnRewindFailure: get('postgresql.remove_data_directory_on_rewind_failure'),
      removeDataDirectoryOnDivergedTimelines: get('postgresql.remove_data_directory_on_diverged_timelines'),
      runDir: get('postgresql.run_dir'),
      runAs: get('postgresql.run_as'),
      parameters: get('postgresql.parameters'),
      pgHba: get('postgresql.pg_hba'),
      callbacks: Object.fromEntries(
        CALLBACK_ACTIONS.flatMap((a) => (get<string | undefined>(`postgresql.callbacks.${a}`) ? [[a, get<string>(`postgresql.callbacks.${a}`)]] : [])),
      ),
      superuser: pgRole('postgresql.authentication.superuser'),
      replication: pgRole('postgresql.authentication.replication'),
    },
    tags: {
      nofailover: get('tags.nofailover'),
      failoverPriority: get('tags.failover_priority'),
      noloadbalance: get('tags.noloadbalance'),
      nosync: get('tags.nosync'),
    },
    bootstrapDcs: (dcs as Record<string, unknown> | undefined) ?? {},
  };
}

/** Loads and validates the configuration from YAML text and the environment. */
export function loadAgentConfig(sources: ConfigSources, readFile?: (p: string) => string): AgentConfig {
  return buildAgentConfig(loadFlatConfig(sources), readFile);
}

/**
 * The configuration file a deployment ships, in the file's own (Patroni-style) nesting. Keys that a Pod supplies
 * through its environment (name, pod IP, passwords from the Secret) are usually left out here.
 */
export type AgentConfigFile = Record<string, unknown>;

/** Placeholder environment standing in for what each Pod supplies, so a shipped file can be validated at synth time. */
const POD_SUPPLIED_ENV: NodeJS.ProcessEnv = {
  PATRONI_NAME: 'member-0',
  PATRONI_KUBERNETES_POD_IP: '192.0.2.10',
  PATRONI_SUPERUSER_PASSWORD: 'placeholder',
  PATRONI_REPLICATION_PASSWORD: 'placeholder',
};

/**
 * Renders a configuration file as YAML after validating it with the agent's own loader, with the per-Pod values
 * supplied as the StatefulSet would. Deployment tooling uses this, so a manifest can never carry a configuration
 * the agent would refuse.
 */
export function renderAgentConfigFile(file: AgentConfigFile, podEnv: NodeJS.ProcessEnv = POD_SUPPLIED_ENV): string {
  const yaml = toYaml(file, { sortMapEntries: true });
  loadAgentConfig({ yaml, env: podEnv }, () => 'placeholder');
  return yaml;
}

/** Every key the agent reads, with its environment variable and default, for docs and tooling. */
export function describeConfigKeys(): readonly { key: string; env?: string; default?: unknown; doc: string }[] {
  return FIELDS.map((f) => ({ key: f.key, env: f.env, default: f.default, doc: f.doc }));
}
