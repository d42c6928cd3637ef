/**
 * Patroni configuration keys the agent does not carry out, and what it does with each, so a Patroni member's file
 * starts unchanged: most are accepted with one warning naming the key and why it has no effect; a key whose silent
 * omission would weaken security or change what the cluster is (a standby cluster, another DCS) is refused.
 * Keys match themselves and everything below them (`watchdog` covers `watchdog.mode`).
 */
export interface PatroniKey {
  readonly key: string;
  readonly why: string;
}

/** libpq options of Patroni's that the agent does not pass on (the others are in the schema, `LIBPQ_TLS_OPTIONS`). */
const TLS_REFUSED: readonly PatroniKey[] = (['superuser', 'replication'] as const).flatMap((role) => [
  {
    key: `postgresql.authentication.${role}.sslpassword`,
    why: 'encrypted client keys are not supported: the key password would show in pg_stat_wal_receiver; give an unencrypted sslkey',
  },
  { key: `postgresql.authentication.${role}.sslnegotiation`, why: "PostgreSQL 15's libpq has no sslnegotiation (it came with 17)" },
]);
const TLS_CLIENT = ['sslpassword', 'sslnegotiation'];

/** Accepted with a warning: the agent runs without them, as it says. */
export const INERT_KEYS: readonly PatroniKey[] = [
  { key: 'postgresql.authentication.rewind', why: 'pg_rewind connects as the superuser' },
  { key: 'postgresql.basebackup', why: 'replicas are cloned with pg_basebackup --checkpoint=fast --wal-method=stream' },
  { key: 'postgresql.before_stop', why: 'not run: PostgreSQL is stopped without it' },
  { key: 'postgresql.pgpass', why: 'the agent keeps its password file in its own run directory' },
  { key: 'postgresql.use_unix_socket', why: 'the agent always uses the local socket for its own connections' },
  { key: 'postgresql.use_unix_socket_repl', why: 'replication to another member goes over TCP' },
  { key: 'postgresql.create_replica_methods', why: 'replicas are created with pg_basebackup only' },
  { key: 'postgresql.recovery_conf', why: 'the agent writes the recovery settings a standby needs' },
  { key: 'postgresql.pg_ctl_timeout', why: 'start and stop are bounded by primary_start_timeout and shutdown_timeout' },
  { key: 'postgresql.bin_name', why: 'the binaries are found by their standard names in bin_dir' },
  { key: 'postgresql.config_dir', why: 'the configuration files live in the data directory' },
  { key: 'postgresql.custom_conf', why: 'use postgresql.parameters' },
  { key: 'postgresql.pg_ident', why: 'pg_ident.conf is left as initdb wrote it' },
  { key: 'tags.clonefrom', why: 'replicas always clone from the leader' },
  { key: 'tags.replicatefrom', why: 'replicas always stream from the leader (no cascading)' },
  { key: 'tags.nostream', why: 'every replica streams' },
  { key: 'watchdog', why: 'the fence watchdog beside the agent stops a primary whose lease is over (see README, Fencing)' },
  { key: 'log', why: 'logs go to stdout as JSON lines; PATRONI_LOG_LEVEL or PGHA_LOG_LEVEL sets the level' },
  { key: 'ctl', why: 'read by the pgha and patronictl command-line tools, not by the agent' },
  { key: 'restapi.allowlist', why: 'use the NetworkPolicy the toolkit generates' },
  { key: 'restapi.allowlist_include_members', why: 'use the NetworkPolicy the toolkit generates' },
  { key: 'restapi.http_extra_headers', why: 'the REST API sends no extra headers' },
  { key: 'restapi.https_extra_headers', why: 'the REST API sends no extra headers' },
  { key: 'restapi.request_queue_size', why: 'requests are served as they come' },
  { key: 'restapi.ciphers', why: "Node's default TLS ciphers are used" },
  { key: 'kubernetes.cacert', why: "the agent trusts the service account's CA (ca.crt) or its kubeconfig's" },
];

/** Refused: running without them would lower security or turn the cluster into something else. */
export const REFUSED_KEYS: readonly PatroniKey[] = [
  ...TLS_REFUSED,
  { key: 'restapi.verify_client', why: 'client certificates are not checked yet; the REST API would accept any client' },
  { key: 'restapi.keyfile_password', why: 'encrypted REST API keys are not supported; give an unencrypted keyfile' },
  { key: 'postgresql.pre_promote', why: 'fencing scripts before a promotion are not supported yet; a promotion would skip yours' },
  { key: 'standby_cluster', why: 'standby clusters are not supported; the members would bootstrap a primary of their own' },
  ...['etcd', 'etcd3', 'consul', 'zookeeper', 'exhibitor', 'raft'].map((key) => ({
    key,
    why: 'pgha keeps its state in Kubernetes objects only; use the kubernetes section',
  })),
  { key: 'citus', why: 'Citus clusters are not supported' },
];

/** The file key a Patroni environment variable stands for, where the tables above name it. */
export function keyOfPatroniEnv(name: string): string | undefined {
  const rest = name.slice('PATRONI_'.length).toLowerCase();
  const [section, ...tail] = rest.split('_');
  const option = tail.join('_');
  if (['etcd', 'etcd3', 'consul', 'zookeeper', 'exhibitor', 'raft', 'citus'].includes(section!)) return section;
  if (section === 'restapi') return `restapi.${option}`;
  if (section === 'ctl') return 'ctl';
  if (section === 'log') return 'log';
  if (section === 'rewind') return 'postgresql.authentication.rewind';
  if ((section === 'replication' || section === 'superuser') && TLS_CLIENT.includes(option)) return `postgresql.authentication.${section}.${option}`;
  return undefined;
}

/** Patroni's spelling of a key the agent reads under another name. */
export const KEY_ALIASES: Readonly<Record<string, string>> = {
  'kubernetes.namespace': 'namespace',
};

/** The table entry covering `key` (itself or a parent section), if any. */
export function patroniKey(table: readonly PatroniKey[], key: string): PatroniKey | undefined {
  return table.find((k) => key === k.key || key.startsWith(`${k.key}.`));
}

/** Edit distance, for suggesting the key meant by a typo. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

/** The known name closest to `name` when it is close enough to be a typo (at most a third of its letters off). */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(name, k);
    if (!best || d < best.d) best = { name: k, d };
  }
  return best && best.d > 0 && best.d <= Math.max(1, Math.floor(name.length / 3)) ? best.name : undefined;
}
