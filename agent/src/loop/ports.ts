import type { LockBasis } from '../core/actions';
import type { LockView, MemberStatus, MemberView, Observation, SelfView } from '../core/model';

/** Result of a conditional lock write. */
export type LockWriteResult =
  /** Written (or found already written by an earlier attempt whose answer was lost). */
  | { readonly outcome: 'written' }
  /** Someone else changed the lock first: the race is lost. Never retried blindly. */
  | { readonly outcome: 'conflict'; readonly holder: string | null };

/**
 * What the loop needs from the cluster store. One implementation talks to Kubernetes (`store/kube-store.ts`);
 * reads come from watched caches and never block on the API.
 */
export interface ClusterStore {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Caches are synced. */
  readonly ready: boolean;
  lock(): LockView;
  members(): MemberView[];
  /** What our own Pod shows; `null` when it does not exist. */
  ownPublished(): MemberStatus | 'other' | null;
  /** Failsafe topologies our unconfirmed lock writes may have stored (`SelfView.failsafeWritten`). @default {} */
  failsafeWritten?(): Readonly<Record<string, string>>;
  /** Per-run housekeeping (the API server list for the bypass). Never throws. */
  refresh(signal: AbortSignal): Promise<void>;
  /** Takes the lock; the write carries `ttlSeconds`, by which every member times it. */
  acquire(basis: LockBasis, budgetMs: number, ttlSeconds: number): Promise<LockWriteResult>;
  renew(basis: LockBasis, budgetMs: number, ttlSeconds: number): Promise<LockWriteResult>;
  release(basis: LockBasis, budgetMs: number): Promise<LockWriteResult>;
  publish(status: MemberStatus, budgetMs: number): Promise<void>;
}

/** What the loop tells the local service after each run, so it can bring itself in line with the lock. */
export interface ReconcileContext {
  /** This node acts as leader right now (holds the lock within its local lease). */
  readonly leading: boolean;
  readonly lock: LockView;
  readonly members: readonly MemberView[];
  readonly shuttingDown: boolean;
  /** The store's caches are synced; before that the cluster's state is unknown and nothing may be planned on it. */
  readonly storeReady: boolean;
}

/**
 * The local service the agent keeps highly available: PostgreSQL (`ha/postgres-service.ts`), or the agent alone
 * (`AgentOnlyService`, lock-only test runs). The optional hooks let a service take part in the loop.
 */
export interface LocalService {
  /** May take the lock now (runs, is fit to lead, not paused). */
  healthy(): boolean;
  stopped(): boolean;
  /** State, primary readiness and give-up for the observation (see `SelfView`); absent: derived from `healthy`. */
  facts?(): { readonly state?: SelfView['state']; readonly primaryReady?: boolean; readonly giveUp?: boolean };
  /** The service runs as a primary now (PostgreSQL accepts writes); such a member never makes a failsafe promise. */
  runsAsPrimary?(): boolean;
  /** Re-reads the service's own state before each observation. Never throws; bounded in time. */
  refresh?(): Promise<void>;
  /**
   * Asked right before a race for a lock held by someone else or by no one: false keeps this member out (it lags,
   * another member is healthier, a switchover names someone else). Never throws.
   */
  mayAcquire?(obs: Observation): Promise<boolean>;
  /** Brings the service in line with the lock (start, promote, follow...). Must return quickly; long work runs in the background. */
  reconcile?(ctx: ReconcileContext): void;
  /** Stops the service; resolves when it is down. Safe to repeat. */
  stop(): Promise<void>;
  /** We stopped being leader (lease deadline, lock lost, shutdown): stop accepting writes now. */
  leadershipLost(cause: string): void;
}
