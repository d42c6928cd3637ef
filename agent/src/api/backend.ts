import type { HealthFacts } from './health';

/** What an endpoint answers: a status and a body (a string goes out as text, anything else as JSON). */
export interface ApiResult {
  readonly status: number;
  readonly body?: unknown;
  /** Overrides the content type that follows from the body (text or JSON). */
  readonly contentType?: string;
  /** Extra response headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** `POST /failsafe`: a failsafe leader asks for a promise (Patroni's body; `ttl` is pgha's). */
export interface FailsafeRequestBody {
  readonly name: string;
  /** Seconds not to take the lock; absent from a Patroni leader. */
  readonly ttlSeconds?: number;
}

export interface SwitchoverRequest {
  /** `failover` names only a candidate; `switchover` names the current leader (and maybe a candidate). */
  readonly action: 'switchover' | 'failover';
  /**
   * The endpoint the client called. A failover that names the leader is carried out as a switchover, but answered
   * in the words of the endpoint, as Patroni 3.0.2 (whose patronictl sends the leader along) answers.
   */
  readonly endpoint?: 'switchover' | 'failover';
  readonly leader?: string;
  readonly candidate?: string;
  readonly scheduledAt?: Date;
}

export interface RestartRequest {
  readonly restartPending?: boolean;
  readonly role?: 'primary' | 'replica';
  readonly postgresVersion?: string;
  readonly timeoutSeconds?: number;
  readonly scheduledAt?: Date;
}

/**
 * What the REST API needs from the agent. The API layer validates requests and maps results to HTTP; the agent
 * decides. Read methods answer from memory and never block on Kubernetes or PostgreSQL.
 */
export interface ApiBackend {
  /** The body of every health check, from memory. */
  statusJson(): Record<string, unknown>;
  /** The body of `GET /patroni`: as `statusJson`, with PostgreSQL's positions read afresh when they are stale. */
  freshStatusJson(): Promise<Record<string, unknown>>;
  healthFacts(): HealthFacts;
  cluster(): Record<string, unknown>;
  history(): readonly unknown[];
  /** The dynamic configuration, or `null` when the cluster has none yet. */
  config(): Record<string, unknown> | null;
  patchConfig(patch: Record<string, unknown>): Promise<ApiResult>;
  replaceConfig(config: Record<string, unknown>): Promise<ApiResult>;
  switchover(req: SwitchoverRequest): Promise<ApiResult>;
  cancelSwitchover(): Promise<ApiResult>;
  restart(req: RestartRequest): Promise<ApiResult>;
  cancelRestart(): Promise<ApiResult>;
  reload(): Promise<ApiResult>;
  reinitialize(req: { readonly force: boolean; readonly fromLeader: boolean }): Promise<ApiResult>;
  /** Prometheus text exposition. */
  metrics(): string;
  /** `GET /failsafe`: the failsafe topology, or `null` when failsafe mode is off. */
  failsafeTopology(): Readonly<Record<string, string>> | null;
  /** `POST /failsafe`. */
  failsafe(req: FailsafeRequestBody): ApiResult;
}
