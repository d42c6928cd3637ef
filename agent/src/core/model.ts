/**
 * What the decision core sees: one frozen snapshot per loop run. Times are milliseconds on this process's
 * monotonic clock; wall-clock time never enters the core, so a skewed clock cannot change a decision.
 */

/** The leader lock as this node last saw it. */
export interface LockView {
  /** resourceVersion of the lock object; `null` when the object does not exist. */
  readonly version: string | null;
  /** Name of the holder; `null` when nobody holds the lock (object missing, released, or annotation empty). */
  readonly holder: string | null;
  /** The lock's ttl (its `ttl` annotation, or this node's own ttl when absent or malformed). */
  readonly ttlMs: number;
  readonly transitions: number;
  /** The holder's `acquireTime` annotation, kept verbatim on a re-acquire. */
  readonly acquireTime: string | null;
  /**
   * Monotonic time at which this node first saw the current value of (holder, acquireTime, renewTime, ttl,
   * transitions). The lock is valid until `observedAt + ttlMs`. A node that just started counts from its first
   * read, so it gives an existing holder one full ttl.
   */
  readonly observedAt: number;
  /**
   * The lock's `failsafe` annotation: the members (name → REST API URL) its holder last wrote while failsafe mode was
   * on. While the lock names a holder, only these members may take the lock (see `failsafe.ts`). @default null
   */
  readonly failsafe?: Readonly<Record<string, string>> | null;
}

/** What a member publishes about itself (the `status` annotation of its Pod; the role label follows from it). */
/** Patroni's member states (the `state` field of the Pod status); only `running` gets a role label. */
export type MemberState =
  | 'running'
  | 'stopped'
  | 'starting'
  | 'stopping'
  | 'crashed'
  | 'restarting'
  | 'creating replica'
  | 'initializing new cluster'
  | 'start failed'
  | 'bootstrap failed';

export interface MemberStatus {
  /** `running` while the member (its Postgres) works; the other Patroni states while it starts, stops or failed. */
  readonly state: MemberState;
  readonly role: 'primary' | 'replica';
}

/** Another member, from its Pod. */
export interface MemberView {
  readonly name: string;
  /** `null` when the Pod has no readable status annotation. */
  readonly status: MemberStatus | null;
}

/** This node's own state. */
export interface SelfView {
  readonly name: string;
  /** True while the local service works; for now "the agent runs". Postgres health replaces this later. */
  readonly healthy: boolean;
  /** `tags.nofailover` (or failover_priority 0): never take the lock. */
  readonly nofailover: boolean;
  /**
   * Local lease deadline while this node acts as leader (see `lease.ts`); `null` when it does not.
   * The node acts as leader only while `now < leaseDeadline`.
   */
  readonly leaseDeadline: number | null;
  /** Start of the last successful lock write (acquire or renew); `null` if none since the node last led. */
  readonly lastRenewAt: number | null;
  readonly shuttingDown: boolean;
  /** The state the local service reports for publishing. @default - `running` when healthy, else `stopped` */
  readonly state?: MemberState;
  /**
   * The local service runs as a primary (Postgres promoted). A leader publishes the primary role only once it does,
   * so the role label never points at a server that still refuses writes. @default true
   */
  readonly primaryReady?: boolean;
  /**
   * The local service asks its leader to give the lock up: its primary cannot come back within its bound, or a
   * switchover hands over. Once the service is stopped, the lock is released so a replica can take over. @default false
   */
  readonly giveUp?: boolean;
  /** The local service has stopped (only meaningful while shutting down). */
  readonly stopped: boolean;
  /**
   * What our Pod shows now: the status we last published, `'other'` when the Pod carries something we would not
   * write (stale, edited by hand, malformed), `null` when our Pod does not exist.
   */
  readonly published: MemberStatus | 'other' | null;
  /**
   * Until when (monotonic ms) this member promised a failsafe leader, by answering its `POST /failsafe`, not to take
   * the lock; `null` when it made no promise. @default null
   */
  readonly failsafePromiseUntil?: number | null;
  /**
   * Failsafe topologies (name → REST API URL) that this member's own lock writes since its last confirmed one may
   * have stored: a write whose answer was lost may have landed, and members named only there read it. A failsafe
   * round asks them too. @default {}
   */
  readonly failsafeWritten?: Readonly<Record<string, string>>;
}

export interface Observation {
  readonly now: number;
  /** The store's caches are synced; without that the core writes nothing to the lock. */
  readonly storeReady: boolean;
  readonly lock: LockView;
  readonly members: readonly MemberView[];
  readonly self: SelfView;
}

/** The part of the configuration the core uses, in milliseconds. */
export interface CoreConfig {
  readonly ttlMs: number;
  readonly loopWaitMs: number;
  /** `failsafe_mode` of the dynamic configuration: a leader cut off from the API may lead on its members' promises. @default false */
  readonly failsafeMode?: boolean;
}
