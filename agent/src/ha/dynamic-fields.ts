/**
 * The keys of the dynamic configuration (the `config` annotation of `<scope>-config`, Patroni's names) that the agent
 * reads: one table that drives their validation (`validateDynamicConfig`) and the documentation in
 * docs/configuration.md. Other keys are stored and kept as they are.
 */

/** What a key may hold. */
export type DynamicFieldType = 'integer' | 'boolean' | 'synchronous-mode' | 'parameters' | 'hba-lines' | 'slots' | 'slot-matchers';

export interface DynamicFieldSpec {
  /** Dotted key in the annotation's JSON, e.g. `postgresql.parameters`. */
  readonly key: string;
  readonly type: DynamicFieldType;
  /** Bounds of an integer, inclusive. */
  readonly min?: number;
  readonly max?: number;
  /** Used while the key is unset. */
  readonly default?: boolean | number;
  /** The member's own key (agent/src/config/schema.ts) whose value is used while this one is unset. */
  readonly memberKey?: string;
  readonly doc: string;
}

/** The largest integer a key without its own `max` takes (PostgreSQL's int4, as Patroni's values end up there). */
export const DYNAMIC_INT_MAX = 2_147_483_647;

export const DYNAMIC_FIELDS: readonly DynamicFieldSpec[] = [
  { key: 'ttl', type: 'integer', min: 5, max: 3600, memberKey: 'ttl', doc: 'Seconds a leader lock stays valid, for the whole cluster.' },
  { key: 'loop_wait', type: 'integer', min: 1, max: 3600, memberKey: 'loop_wait', doc: 'Seconds between HA loop runs, for the whole cluster.' },
  {
    key: 'retry_timeout',
    type: 'integer',
    min: 1,
    max: 3600,
    memberKey: 'retry_timeout',
    doc: 'Seconds an API or Postgres operation may be retried, for the whole cluster.',
  },
  {
    key: 'maximum_lag_on_failover',
    type: 'integer',
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    memberKey: 'maximum_lag_on_failover',
    doc: 'Bytes a replica may lag and still be promoted.',
  },
  {
    key: 'primary_start_timeout',
    type: 'integer',
    min: 0,
    memberKey: 'primary_start_timeout',
    doc: 'Seconds a crashed primary may take to come back before its lock is released for a failover.',
  },
  {
    key: 'master_start_timeout',
    type: 'integer',
    min: 0,
    doc: "Patroni's earlier name for `primary_start_timeout`; read only while that is unset.",
  },
  { key: 'synchronous_node_count', type: 'integer', min: 1, default: 1, doc: 'Synchronous standbys a commit waits for in synchronous mode.' },
  {
    key: 'synchronous_mode',
    type: 'synchronous-mode',
    default: false,
    doc: 'Commits wait for synchronous standbys, and only a synchronous standby is promoted. `"quorum"` (Patroni\'s ANY n) runs as plain synchronous mode: every chosen standby is waited for.',
  },
  {
    key: 'synchronous_mode_strict',
    type: 'boolean',
    default: false,
    doc: 'With no synchronous standby left, commits wait (`synchronous_standby_names = *`) instead of going on unprotected.',
  },
  {
    key: 'pause',
    type: 'boolean',
    default: false,
    doc: 'Maintenance mode (`pgha pause`): no automatic failover and the fence is disarmed; only a member a manual switchover names may take the lock.',
  },
  {
    key: 'failsafe_mode',
    type: 'boolean',
    default: false,
    doc: 'A leader cut off from the Kubernetes API goes on leading while every member it reaches over the REST API promises to stay out.',
  },
  {
    key: 'slots',
    type: 'slots',
    doc: "Permanent physical replication slots the leader creates and every replica keeps, advanced to the leader's positions, so they survive a failover.",
  },
  {
    key: 'ignore_slots',
    type: 'slot-matchers',
    doc: 'Slots no member creates or drops (a tool manages them); a slot matches when every given field matches.',
  },
  {
    key: 'postgresql.parameters',
    type: 'parameters',
    doc: "PostgreSQL settings for every member, layered over each member's own `postgresql.parameters`.",
  },
  {
    key: 'postgresql.pg_hba',
    type: 'hba-lines',
    doc: "pg_hba.conf lines for clients, for every member; a member's own `postgresql.pg_hba` wins. @default - `host all all all scram-sha-256`",
  },
];
