import type { LockBasis } from '../core/actions';
import type { LockView, MemberStatus, MemberView } from '../core/model';

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
  /** Per-run housekeeping (the API server list for the bypass). Never throws. */
  refresh(signal: AbortSignal): Promise<void>;
  acquire(basis: LockBasis, budgetMs: number): Promise<LockWriteResult>;
  renew(basis: LockBasis, budgetMs: number): Promise<LockWriteResult>;
  release(basis: LockBasis, budgetMs: number): Promise<LockWriteResult>;
  publish(status: MemberStatus, budgetMs: number): Promise<void>;
}

/**
 * The local service the agent keeps highly available. For now it is the agent itself (healthy while it runs);
 * the PostgreSQL adapter implements this later with real facts and a real stop.
 */
export interface LocalService {
  healthy(): boolean;
  stopped(): boolean;
  /** Stops the service; resolves when it is down. Safe to repeat. */
  stop(): Promise<void>;
  /** We stopped being leader (lease deadline, lock lost, shutdown): stop accepting writes now. */
  leadershipLost(cause: string): void;
}
