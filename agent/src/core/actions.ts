import type { MemberStatus } from './model';

/** The lock value an action was decided on; the store writes conditionally on `version`. */
export interface LockBasis {
  /** resourceVersion the write is conditional on; `null` means "create the object" (it did not exist). */
  readonly version: string | null;
  readonly holder: string | null;
  readonly transitions: number;
  readonly acquireTime: string | null;
}

/** Every action the core can ask for. Each is safe to repeat. */
export type Action =
  /** Take the lock with a write conditional on `basis.version` (or a create when it is null). */
  | { readonly type: 'acquire'; readonly basis: LockBasis }
  /**
   * Refresh our own lock with a write conditional on `basis.version`. With `failsafe`, a renew that cannot reach the
   * API may instead extend the lease on the promises of these members (name → REST API URL; see `failsafe.ts`).
   */
  | { readonly type: 'renew'; readonly basis: LockBasis; readonly failsafe?: Readonly<Record<string, string>> }
  /** Give the lock up (holder removed) with a write conditional on `basis.version`. */
  | { readonly type: 'release'; readonly basis: LockBasis }
  /** Stop acting as leader locally, now. Never needs the API. */
  | { readonly type: 'step-down'; readonly cause: StepDownCause }
  /** Write our member status (and the role label that follows from it) to our Pod. */
  | { readonly type: 'publish-status'; readonly status: MemberStatus }
  /** Stop the local service (later: Postgres) before the lock may be released. */
  | { readonly type: 'stop-service' }
  /** Shutdown is complete; the loop ends. */
  | { readonly type: 'finish' };

/** Why a leader stops acting as one. `give-up`: its local service asks to give the lock up (see `SelfView.giveUp`). */
export type StepDownCause = 'lease-deadline' | 'lock-lost' | 'shutdown' | 'give-up';

export type ActionType = Action['type'];

export interface Decision {
  readonly actions: readonly Action[];
  /** Why, in one fixed phrase (logged as is). */
  readonly reason: string;
  /** Monotonic time at which the loop must run again even if nothing wakes it. */
  readonly nextCheckAt: number;
}

/** The actions that write the lock object; a decision carries at most one. */
export const LOCK_WRITES: ReadonlySet<ActionType> = new Set(['acquire', 'renew', 'release']);
