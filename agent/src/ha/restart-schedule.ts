import type { ScheduledRestart } from '../core/scheduled-restart';
import type { PostgresSnapshot } from '../postgres/local-postgres';
import type { RestartFacts } from '../core/scheduled-restart';
import { postmasterStartText } from './member-facts';

/** Longest a timer may be armed for (Node's limit is 2^31-1 ms); a later schedule is looked at again by then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The member's scheduled restart (at most one, in memory as in Patroni) and the timer that runs the loop at its
 * time, so it happens on time rather than at the next loop_wait tick. What to do with it is decided by
 * `core/scheduled-restart.ts`.
 */
export class RestartSchedule {
  private value: ScheduledRestart | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;

  get current(): ScheduledRestart | undefined {
    return this.value;
  }

  /** Schedules `s`; false when one is scheduled already. */
  set(s: ScheduledRestart): boolean {
    if (this.value) return false;
    this.value = s;
    return true;
  }

  /** Drops the scheduled restart; false when there was none. */
  clear(): boolean {
    const had = this.value !== undefined;
    this.value = undefined;
    this.disarm();
    return had;
  }

  /** Runs `wake` in `inMs` (once; a timer for the same time is kept). */
  wakeIn(inMs: number, nowMs: number, wake: () => void): void {
    const at = nowMs + Math.min(inMs, MAX_TIMER_MS);
    if (this.timer && this.timerAt === at) return;
    this.disarm();
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      wake();
    }, at - nowMs);
    this.timer.unref();
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
  }
}

/** The local PostgreSQL as a restart decision sees it. */
export function restartFacts(snap: PostgresSnapshot | undefined): RestartFacts {
  const s = snap?.server;
  if (!s) return { running: false, role: snap?.dataDir?.kind === 'initialized' ? 'replica' : 'uninitialized', pendingRestart: false };
  return {
    running: snap.accepting,
    role: s.inRecovery ? 'replica' : 'primary',
    serverVersionNum: s.serverVersionNum,
    pendingRestart: s.pendingRestart.length > 0,
    postmasterStartTime: postmasterStartText(s.postmasterStartTime),
  };
}
