import type { Clock } from '../clock';
import type { Action, Decision } from '../core/actions';
import { decide } from '../core/decide';
import { FAILSAFE_REQUEST_TIMEOUT_MS, type FailsafeAnswer, failsafeRoundDeadline, failsafeVerdict, type FailsafeVerdict, promiseBinds } from '../core/failsafe';
import { violations } from '../core/invariants';
import type { CoreConfig, Observation } from '../core/model';
import { errorFields, type Logger } from '../log/logger';
import { LeaderFence } from './leader-fence';
import type { ClusterStore, LocalService } from './ports';

export interface HaLoopProps {
  readonly store: ClusterStore;
  readonly service: LocalService;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly name: string;
  readonly nofailover: boolean;
  readonly core: CoreConfig;
  readonly retryTimeoutMs: number;
  /**
   * The timings in force now, when they can change at run time (the dynamic configuration). Read once per run and
   * once per lock write, whose ttl it gives. @default - `core` and `retryTimeoutMs`
   */
  readonly timing?: () => { readonly core: CoreConfig; readonly retryTimeoutMs: number };
  /** The lease deadline changed (null: not leading); the fence outside the process follows it. */
  readonly onLeaseDeadline?: (deadline: number | null) => void;
  /** This member took the lock from `previous`, a live-looking holder that may still be routed to. */
  readonly onTakeover?: (previous: string) => void;
  /** A loop run completed after `durationMs` (for the agent's metrics). */
  readonly onRun?: (durationMs: number) => void;
  /** Asks the failsafe topology for promises (`POST /failsafe`); without it a leader never leads on failsafe. */
  readonly askFailsafe?: (peers: Readonly<Record<string, string>>, ttlMs: number, timeoutMs: number) => Promise<FailsafeAnswer[]>;
}

/** A failsafe leader's request for a promise, as `POST /failsafe` carries it. */
export interface FailsafeRequest {
  readonly from: string;
  /** How long not to take the lock; absent (a Patroni leader): the lock's ttl. */
  readonly durationMs?: number;
}

type Outcome = 'done' | 'acquired' | 'renewed' | 'failsafe' | 'released' | 'lost' | 'skipped' | 'failed';

// Outcomes after which the next run happens at once: the state they change decides the next step (an acquired
// lock is published, a stopped service lets the lock go, a lost race is looked at again).
const RERUN_NOW: ReadonlySet<Outcome> = new Set(['acquired', 'lost']);
// Immediate reruns in a row before the loop waits anyway; stops a flapping input from spinning the loop.
const MAX_IMMEDIATE_RUNS = 5;
const MIN_PAUSE_MS = 100;

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * The HA loop: observe (a frozen snapshot from the store's caches, the local lease and the service), decide (pure),
 * apply, then log one line with the reason. It runs every loop_wait, at once when the leader object changes, and at
 * the exact time the core asks for (lock expiry, renew due, lease deadline). Errors are caught per run.
 */
export class HaLoop {
  private readonly fence: LeaderFence;
  private readonly log: Logger;
  private shuttingDown = false;
  private finished = false;
  private wakeRequested = false;
  private wakeUp: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private lastRunAt: number | undefined;
  /** An acquire of ours is in flight: no failsafe promise may be given meanwhile. */
  private acquiring = false;
  /** Until when we promised a failsafe leader not to take the lock (monotonic ms). */
  private promisedUntil: number | null = null;
  /** The lease rests on failsafe promises, not on a lock write (Patroni's `failsafe_mode_is_active`). */
  private onFailsafe = false;

  constructor(private readonly props: HaLoopProps) {
    this.log = props.logger;
    this.fence = new LeaderFence({
      clock: props.clock,
      ttlMs: props.core.ttlMs,
      onDeadline: props.onLeaseDeadline,
      onLost: (cause) => {
        this.log.warn('stopped acting as leader', { cause });
        props.service.leadershipLost(cause);
        this.wake();
      },
    });
  }

  /** True while this node may act as leader. */
  get leading(): boolean {
    const d = this.fence.leaseDeadline();
    return d !== null && this.props.clock.monotonicMs() < d;
  }

  /** Milliseconds left on the lease while leading; `null` otherwise. */
  get leaseHeadroomMs(): number | null {
    const d = this.fence.leaseDeadline();
    const left = d === null ? 0 : d - this.props.clock.monotonicMs();
    return left > 0 ? left : null;
  }

  /** True while this leader leads on its members' failsafe promises because it cannot reach the API. */
  get failsafeActive(): boolean {
    return this.onFailsafe && this.leading;
  }

  /**
   * Answers a failsafe leader's `POST /failsafe` (see `core/failsafe.ts`). The check and the promise happen in one
   * turn of the event loop, and an acquire checks the promise right before it writes, so none can slip between.
   */
  grantFailsafe(req: FailsafeRequest): FailsafeVerdict {
    const { store, service, clock } = this.props;
    const lock = store.lock();
    const verdict = failsafeVerdict({
      now: clock.monotonicMs(),
      enabled: this.core().failsafeMode ?? false,
      from: req.from,
      durationMs: req.durationMs ?? lock.ttlMs,
      leading: this.leading,
      runsAsPrimary: service.runsAsPrimary?.() ?? false,
      acquiring: this.acquiring,
      storeReady: store.ready,
      holder: lock.holder,
      promisedUntil: this.promisedUntil,
    });
    if (verdict.granted) {
      if (this.promisedUntil === null || clock.monotonicMs() >= this.promisedUntil)
        this.log.info('promised the failsafe leader to stay out', { leader: req.from });
      this.promisedUntil = verdict.until;
    } else this.log.warn('refused a failsafe request', { from: req.from, reason: verdict.reason });
    return verdict;
  }

  /** Monotonic time the last loop run completed (for `/liveness`); undefined before the first. */
  get lastRunCompletedAt(): number | undefined {
    return this.lastRunAt;
  }

  async start(): Promise<void> {
    await this.props.store.start();
    this.running = this.run();
  }

  /** Runs the loop now (the store calls this on leader-object changes). */
  wake(): void {
    this.wakeRequested = true;
    this.wakeUp?.();
  }

  /** Shuts down: the service stops, then the lock is released, then the loop ends and the store closes. */
  async stop(): Promise<void> {
    this.shuttingDown = true;
    this.wake();
    try {
      await this.running;
    } finally {
      this.abort.abort();
      this.fence.dispose();
      await this.props.store.stop();
    }
  }

  /** Ends the loop without the shutdown sequence (used when the shutdown deadline is exceeded). */
  abandon(): void {
    this.finished = true;
    this.fence.revoke('shutdown');
    this.wake();
  }

  private core(): CoreConfig {
    return this.props.timing?.().core ?? this.props.core;
  }

  private async run(): Promise<void> {
    let immediate = 0;
    while (!this.finished) {
      let next: number;
      let rerun = false;
      try {
        const r = await this.runOnce();
        next = r.nextCheckAt;
        rerun = r.rerun;
      } catch (err) {
        this.log.error('ha loop run failed', errorFields(err));
        next = this.props.clock.monotonicMs() + this.core().loopWaitMs;
      }
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may set it while runOnce() is awaited
      if (this.finished) break;
      immediate = rerun ? immediate + 1 : 0;
      if (rerun && immediate <= MAX_IMMEDIATE_RUNS) continue;
      await this.waitUntil(Math.max(next, this.props.clock.monotonicMs() + (rerun ? MIN_PAUSE_MS : 0)));
    }
  }

  private waitUntil(at: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.wakeRequested) {
        this.wakeRequested = false;
        resolve();
        return;
      }
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.wakeRequested = false;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.ceil(at - this.props.clock.monotonicMs())));
      this.wakeUp = done;
    });
  }

  observe(): Observation {
    const { store, service, clock } = this.props;
    const facts = service.facts?.() ?? {};
    return deepFreeze({
      now: clock.monotonicMs(),
      storeReady: store.ready,
      lock: store.lock(),
      members: store.members(),
      self: {
        name: this.props.name,
        healthy: service.healthy(),
        nofailover: this.props.nofailover,
        leaseDeadline: this.fence.leaseDeadline(),
        lastRenewAt: this.fence.lastRenewAt(),
        shuttingDown: this.shuttingDown,
        stopped: service.stopped(),
        published: store.ownPublished(),
        ...(facts.state !== undefined ? { state: facts.state } : {}),
        ...(facts.primaryReady !== undefined ? { primaryReady: facts.primaryReady } : {}),
        ...(facts.giveUp !== undefined ? { giveUp: facts.giveUp } : {}),
        failsafePromiseUntil: this.promisedUntil,
        failsafeWritten: store.failsafeWritten?.() ?? {},
      },
    });
  }

  private async runOnce(): Promise<{ nextCheckAt: number; rerun: boolean }> {
    // The API server list (bypass) is re-read in the background: a slow answer must never delay a renew.
    void this.props.store.refresh(this.abort.signal);
    const runStarted = this.props.clock.monotonicMs();
    await this.props.service.refresh?.();
    const obs = this.observe();
    let decision: Decision = decide(obs, this.core());
    const broken = violations(obs, decision);
    if (broken.length > 0) {
      // Never apply an unsafe decision; stepping down is always safe.
      this.log.error('decision breaks a safety rule; only stepping down', { broken, reason: decision.reason });
      decision = { ...decision, actions: decision.actions.filter((a) => a.type === 'step-down') };
    }
    const outcomes: Outcome[] = [];
    for (const action of decision.actions) outcomes.push(await this.apply(action, obs));
    const lock = obs.lock;
    this.props.service.reconcile?.({
      leading: this.leading,
      lock: this.props.store.lock(),
      members: obs.members,
      shuttingDown: this.shuttingDown,
      storeReady: this.props.store.ready,
    });
    this.lastRunAt = this.props.clock.monotonicMs();
    this.props.onRun?.(this.lastRunAt - runStarted);
    this.log.info('ha loop', {
      reason: decision.reason,
      actions: decision.actions.map((a) => a.type),
      outcomes,
      holder: lock.holder,
      leading: this.leading,
    });
    const rerun = outcomes.some((o) => RERUN_NOW.has(o)) || decision.actions.some((a) => a.type === 'stop-service');
    return { nextCheckAt: decision.nextCheckAt, rerun };
  }

  /** Leads on: a round of `POST /failsafe` in which every other member promises extends the lease. */
  private async failsafeRound(peers: Readonly<Record<string, string>>, ttlMs: number): Promise<Outcome> {
    const { clock, askFailsafe } = this.props;
    const started = clock.monotonicMs();
    const deadline = this.fence.leaseDeadline();
    if (!askFailsafe || deadline === null || deadline <= started) return 'failed';
    const answers = await askFailsafe(peers, ttlMs, Math.min(FAILSAFE_REQUEST_TIMEOUT_MS, deadline - started));
    const extended = failsafeRoundDeadline(Object.keys(peers), answers, started, ttlMs);
    if (extended === null) {
      this.log.warn('failsafe round failed; leading only until the lease deadline', {
        refused: answers.filter((a) => a.promisedMs === null || a.promisedMs < ttlMs).map((a) => a.name),
      });
      return 'failed';
    }
    if (!this.fence.extend(started, extended)) return 'failed';
    if (!this.onFailsafe) this.log.warn('leading on failsafe promises: the API cannot be reached', { members: Object.keys(peers) });
    this.onFailsafe = true;
    return 'failsafe';
  }

  private async apply(action: Action, obs: Observation): Promise<Outcome> {
    const { store, clock } = this.props;
    const { retryTimeoutMs } = this.props.timing?.() ?? this.props;
    // The ttl this lock write carries; the lease is timed by it (and capped by it before the answer is known).
    const ttlMs = this.core().ttlMs;
    try {
      switch (action.type) {
        case 'acquire': {
          // Candidates check each other first (lag, the others' positions, a named switchover candidate); a
          // re-acquire of our own lock needs no check.
          if (action.basis.holder !== this.props.name && this.props.service.mayAcquire && !(await this.props.service.mayAcquire(obs))) return 'skipped';
          const started = clock.monotonicMs();
          // A promise given while the peers were asked holds: checked in the same turn as the write starts.
          if (promiseBinds({ failsafePromiseUntil: this.promisedUntil }, started)) return 'skipped';
          this.fence.beginWrite(started, ttlMs);
          this.acquiring = true;
          let r;
          try {
            r = await store.acquire(action.basis, retryTimeoutMs, ttlMs / 1000);
          } finally {
            this.acquiring = false;
          }
          if (r.outcome !== 'written') return 'lost';
          this.onFailsafe = false;
          this.fence.confirm(started, ttlMs);
          const previous = action.basis.holder;
          this.log.info('acquired the lock', { transitions: previous === this.props.name ? action.basis.transitions : action.basis.transitions + 1, previous });
          if (previous !== null && previous !== this.props.name) this.props.onTakeover?.(previous);
          return 'acquired';
        }
        case 'renew': {
          const deadline = this.fence.leaseDeadline();
          const started = clock.monotonicMs();
          // Retrying past the lease deadline is pointless: by then we have stopped leading anyway.
          const budget = deadline === null ? 0 : Math.min(retryTimeoutMs, deadline - started);
          if (budget <= 0) return 'skipped';
          this.fence.beginWrite(started, ttlMs);
          let r;
          try {
            r = await store.renew(action.basis, budget, ttlMs / 1000);
          } catch (err) {
            // The API cannot be reached (a refusal of the write itself is a conflict, never this).
            if (!action.failsafe) throw err;
            this.log.warn('renew failed; asking the failsafe topology', { members: Object.keys(action.failsafe), ...errorFields(err) });
            return await this.failsafeRound(action.failsafe, ttlMs);
          }
          if (r.outcome !== 'written') {
            this.fence.revoke('lock-lost');
            return 'lost';
          }
          if (this.onFailsafe) this.log.info('renewed the lock; no longer leading on failsafe promises', {});
          this.onFailsafe = false;
          this.fence.confirm(started, ttlMs);
          return 'renewed';
        }
        case 'release': {
          const r = await store.release(action.basis, retryTimeoutMs);
          if (r.outcome === 'written') this.log.info('released the lock', {});
          return r.outcome === 'written' ? 'released' : 'lost';
        }
        case 'step-down':
          this.fence.revoke(action.cause);
          return 'done';
        case 'publish-status':
          await store.publish(action.status, retryTimeoutMs);
          return 'done';
        case 'stop-service':
          await this.props.service.stop();
          return 'done';
        case 'finish':
          this.finished = true;
          return 'done';
      }
    } catch (err) {
      this.log.warn('action failed', { action: action.type, holder: obs.lock.holder, ...errorFields(err) });
      return 'failed';
    }
  }
}
