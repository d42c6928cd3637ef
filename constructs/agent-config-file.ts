import { renderAgentConfigFile, type AgentConfigFile } from '../agent/src/config/agent-config';
import { ConfigError } from '../agent/src/errors';
import { StoreMode } from './cluster-props';
import type { ClusterSpec } from './cluster-spec';
import { PropError } from './cluster-spec';
import { REPLICATION_PASSWORD_KEY, RESTAPI_PASSWORD_KEY, SUPERUSER_PASSWORD_KEY } from './credentials';
import { SELECTOR_LABELS_WITHOUT_SCOPE } from './labels';

/** Where the container finds its files; the image's command and the agent's defaults agree on these. */
export const CONFIG_DIR = '/etc/pgha';
export const CONFIG_FILE_NAME = 'pgha.yaml';
// Beside, not inside, the ConfigMap mount: a mount point cannot be created in a read-only volume.
export const CREDENTIALS_DIR = '/etc/pgha-credentials';
export const DATA_MOUNT = '/var/lib/pgha';
export const DATA_DIR = '/var/lib/pgha/data';
export const POSTGRES_PORT = 5432;
export const API_PORT = 8008;
export const POSTGRES_PORT_NAME = 'postgresql';
export const API_PORT_NAME = 'api';

/** Which prop sets each configuration key, so an error the agent's loader raises names the prop. */
const PROP_OF_KEY: Record<string, string> = {
  scope: 'name',
  ttl: 'ttl',
  loop_wait: 'loopWait',
  retry_timeout: 'retryTimeout',
  shutdown_timeout: 'shutdownTimeout',
  'kubernetes.role_label': 'roleLabel',
  'kubernetes.leader_label_value': 'leaderLabelValue',
  'kubernetes.follower_label_value': 'followerLabelValue',
  'kubernetes.scope_label': 'scopeLabel',
  'restapi.authentication.username': 'restApiUsername',
};

/**
 * The environment variables that point the agent at its password files in the mounted Secret: paths, never
 * passwords. The StatefulSet sets exactly these, and the member file is validated with them.
 */
export function passwordFileEnv(spec: ClusterSpec): Record<string, string> {
  return {
    PATRONI_SUPERUSER_PASSWORD_FILE: `${CREDENTIALS_DIR}/${SUPERUSER_PASSWORD_KEY}`,
    PATRONI_REPLICATION_PASSWORD_FILE: `${CREDENTIALS_DIR}/${REPLICATION_PASSWORD_KEY}`,
    ...(spec.restApiUsername !== undefined ? { PATRONI_RESTAPI_PASSWORD_FILE: `${CREDENTIALS_DIR}/${RESTAPI_PASSWORD_KEY}` } : {}),
  };
}

/**
 * The agent's configuration file for this cluster, in the agent's own schema. Per-Pod values (name, namespace, Pod
 * IP) and the password files come from the Pod's environment, so one file serves every member.
 */
export function agentConfigFile(spec: ClusterSpec): AgentConfigFile {
  return {
    scope: spec.name,
    ttl: spec.ttl,
    loop_wait: spec.loopWait,
    retry_timeout: spec.retryTimeout,
    shutdown_timeout: spec.shutdownTimeout,
    kubernetes: {
      use_endpoints: spec.storeMode === StoreMode.ENDPOINTS,
      scope_label: spec.scopeLabel,
      labels: { ...SELECTOR_LABELS_WITHOUT_SCOPE },
      role_label: spec.roleLabel,
      leader_label_value: spec.leaderLabelValue,
      follower_label_value: spec.followerLabelValue,
      ports: [{ name: POSTGRES_PORT_NAME, port: POSTGRES_PORT }],
      bypass_api_service: spec.bypassApiService,
    },
    // The user only: its password comes from the file PATRONI_RESTAPI_PASSWORD_FILE names.
    restapi: { listen: `0.0.0.0:${API_PORT}`, ...(spec.restApiUsername !== undefined ? { authentication: { username: spec.restApiUsername } } : {}) },
    postgresql: {
      listen: `0.0.0.0:${POSTGRES_PORT}`,
      data_dir: DATA_DIR,
      ...(Object.keys(spec.postgresParameters).length ? { parameters: { ...spec.postgresParameters } } : {}),
      ...(spec.pgHba ? { pg_hba: [...spec.pgHba] } : {}),
    },
    // The cluster-wide (dynamic) configuration the first member writes to `<name>-config`, as in Patroni's own
    // Kubernetes example: `patronictl show-config` shows the timings, and `edit-config` changes them for every member.
    bootstrap: {
      dcs: {
        ttl: spec.ttl,
        loop_wait: spec.loopWait,
        retry_timeout: spec.retryTimeout,
        ...(spec.synchronous
          ? { synchronous_mode: true, synchronous_mode_strict: spec.synchronous.strict, synchronous_node_count: spec.synchronous.nodeCount }
          : {}),
      },
    },
  };
}

/** Renders and validates the file with the agent's own loader; a refusal names the prop behind the key. */
export function renderAgentConfig(spec: ClusterSpec): string {
  // What each Pod adds: its name and IP (placeholders here) and the password files (read as placeholders).
  const podEnv = { PATRONI_NAME: `${spec.name}-0`, PATRONI_KUBERNETES_POD_IP: '192.0.2.10', ...passwordFileEnv(spec) };
  try {
    return renderAgentConfigFile(agentConfigFile(spec), podEnv);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new PropError(PROP_OF_KEY[err.key] ?? `agent configuration key ${err.key}`, err.value, `the agent refuses it: ${err.allowed}`);
  }
}
