import type { Clock } from '../clock';
import type { StepDownCause } from '../core/actions';
import { leaseCappedByWrite, leaseDeadlineAfterWrite } from '../core/lease';

/**
 * The local lease: whether this node may act as leader right now. It ends on its own at the deadline through a
 * timer, even while the loop is stuck in a slow API call, so a leader cut off from the API stops before its lock
 * can expire anywhere else (see `core/lease.ts`).
 *
 * The deadline follows the last lock write: a write that may land caps it at once (`beginWrite`), because the others
 * will time the lock by the ttl that write carries; a write known to have landed sets it (`confirm`). So a lower ttl
 * shortens the lease from the first write that carries it, and a write whose answer was lost cannot leave the lease
 * longer than the lock the others see.
 */
export class LeaderFence {
  private deadline: number | null = null;
  private lastWriteAt: number | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly props: {
      readonly clock: Clock;
      readonly ttlMs: number;
      /** Called once when leadership ends for any reason. */
      readonly onLost: (cause: StepDownCause) => void;
      /** Called whenever the deadline changes (null: not leading), e.g. to hand it to a fence outside this process. */
      readonly onDeadline?: (deadline: number | null) => void;
    },
  ) {}

  /** Local lease deadline, or null when not leading. */
  leaseDeadline(): number | null {
    return this.deadline;
  }

  lastRenewAt(): number | null {
    return this.lastWriteAt;
  }

  /** A lock write carrying `ttlMs` starts at `startedAt`: while leading, the lease ends no later than that write's would. */
  beginWrite(startedAt: number, ttlMs: number): void {
    const capped = leaseCappedByWrite(this.deadline, startedAt, ttlMs);
    if (capped !== null && capped !== this.deadline) this.set(capped);
  }

  /** A lock write that started at `startedAt` and carried `ttlMs` succeeded: it is the lock the others see now. */
  confirm(startedAt: number, ttlMs: number = this.props.ttlMs): void {
    const deadline = leaseDeadlineAfterWrite(startedAt, ttlMs);
    if (deadline <= this.props.clock.monotonicMs()) {
      // Already over: a success this late gives nothing (the timer has ended leadership or is about to).
      if (this.deadline !== null && deadline < this.deadline) this.set(deadline);
      return;
    }
    this.lastWriteAt = startedAt;
    this.set(deadline);
  }

  /**
   * A failsafe round that started at `startedAt` earned `deadline` (see `core/failsafe.ts`): while still leading, the
   * lease lasts until then if that is later. False when no longer leading: a round never brings leadership back.
   */
  extend(startedAt: number, deadline: number): boolean {
    if (this.deadline === null || this.props.clock.monotonicMs() >= this.deadline) return false;
    this.lastWriteAt = startedAt;
    if (deadline > this.deadline) this.set(deadline);
    return true;
  }

  /** Stop leading now. */
  revoke(cause: StepDownCause): void {
    if (this.deadline === null) return;
    this.deadline = null;
    this.lastWriteAt = null;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.props.onDeadline?.(null);
    this.props.onLost(cause);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private set(deadline: number): void {
    this.deadline = deadline;
    this.props.onDeadline?.(deadline);
    this.arm();
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.deadline === null) return;
    const delay = this.deadline - this.props.clock.monotonicMs();
    this.timer = setTimeout(
      () => {
        // Timers can fire a little early on some platforms; only the monotonic clock decides.
        if (this.deadline !== null && this.props.clock.monotonicMs() >= this.deadline) this.revoke('lease-deadline');
        else this.arm();
      },
      Math.max(0, Math.ceil(delay)),
    );
  }
}
