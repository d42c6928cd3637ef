import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIN_LEASE_MARGIN_MS } from '../core/lease';
import { encodeFence, type FenceState, uptimeCentiseconds } from './fence-state';

/**
 * How long after the lease ends the watchdog acts. At the deadline the agent stops its own PostgreSQL (an immediate
 * stop, its state updated, one log line); the watchdog is the backstop for an agent that did not (frozen, stuck),
 * and must not race a healthy one. Half the smallest lease safety margin, so the watchdog still kills before any
 * other member may take the lock (see `core/lease.ts`).
 */
export const WATCHDOG_GRACE_MS = MIN_LEASE_MARGIN_MS / 2;

/**
 * The agent's side of the fence file (see `fence-state.ts`). Written synchronously whenever the lease deadline or
 * the armed state changes (about once per lock renew), so the watchdog never sees a deadline later than the lease.
 */
export class FenceFile {
  private armed = true;
  /** Lease deadline on the agent's monotonic clock (ms); null when not leading. */
  private deadline: number | null = null;

  constructor(
    private readonly props: {
      readonly path: string;
      /** The agent's monotonic clock (the lease's), in ms. */
      readonly monotonicMs: () => number;
      /** CLOCK_BOOTTIME in centiseconds. @default /proc/uptime */
      readonly bootTimeCs?: () => number;
      /** @default WATCHDOG_GRACE_MS */
      readonly graceMs?: number;
    },
  ) {}

  /** Writes the current state (call once at start, before PostgreSQL may run). */
  init(): void {
    mkdirSync(dirname(this.props.path), { recursive: true });
    this.write();
  }

  setLease(deadline: number | null): void {
    this.deadline = deadline;
    this.write();
  }

  setArmed(armed: boolean): void {
    if (armed === this.armed) return;
    this.armed = armed;
    this.write();
  }

  state(): FenceState {
    if (!this.armed) return { armed: false, agentPid: process.pid };
    const nowCs = (this.props.bootTimeCs ?? (() => uptimeCentiseconds(readFileSync('/proc/uptime', 'utf8'))))();
    // Not leading: the deadline is now, so a primary still running is stopped (after the grace, like a lease that
    // ends). Rounded down: never later.
    const leftMs = this.deadline === null ? 0 : Math.max(0, this.deadline - this.props.monotonicMs());
    return { armed: true, deadlineCs: nowCs + Math.floor((leftMs + (this.props.graceMs ?? WATCHDOG_GRACE_MS)) / 10), agentPid: process.pid };
  }

  private write(): void {
    const tmp = `${this.props.path}.tmp`;
    writeFileSync(tmp, encodeFence(this.state()));
    renameSync(tmp, this.props.path);
  }
}
