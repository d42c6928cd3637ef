import type { Clock } from '../clock';
import type { StepDownCause } from '../core/actions';
import { leaseDeadlineAfterWrite } from '../core/lease';

/**
 * The local lease: whether this node may act as leader right now. It is extended only by a lock write known to
 * have succeeded, and it ends on its own at the deadline through a timer, even while the loop is stuck in a slow
 * API call, so a leader cut off from the API stops before its lock can expire anywhere else (see `core/lease.ts`).
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
    },
  ) {}

  /** Local lease deadline, or null when not leading. */
  leaseDeadline(): number | null {
    return this.deadline;
  }

  lastRenewAt(): number | null {
    return this.lastWriteAt;
  }

  /** A lock write that started at `startedAt` succeeded; `ttlMs` is the ttl that write carried. */
  confirm(startedAt: number, ttlMs: number = this.props.ttlMs): void {
    const deadline = leaseDeadlineAfterWrite(startedAt, ttlMs);
    if (deadline <= this.props.clock.monotonicMs()) return;
    this.deadline = this.deadline === null ? deadline : Math.max(this.deadline, deadline);
    this.lastWriteAt = this.lastWriteAt === null ? startedAt : Math.max(this.lastWriteAt, startedAt);
    this.arm();
  }

  /** Stop leading now. */
  revoke(cause: StepDownCause): void {
    if (this.deadline === null) return;
    this.deadline = null;
    this.lastWriteAt = null;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.props.onLost(cause);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.deadline === null) return;
    const delay = this.deadline - this.props.clock.monotonicMs();
    this.timer = setTimeout(() => {
      // Timers can fire a little early on some platforms; only the monotonic clock decides.
      if (this.deadline !== null && this.props.clock.monotonicMs() >= this.deadline) this.revoke('lease-deadline');
      else this.arm();
    }, Math.max(0, Math.ceil(delay)));
  }
}
