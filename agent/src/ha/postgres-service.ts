import type { Clock } from '../clock';
import type { AgentConfig } from '../config/agent-config';
import { failsafeAnnotation, ownApiUrl } from './failsafe-topology';
import { raceVerdict } from '../core/failover-rules';
import type { MemberState, Observation } from '../core/model';
import { planPostgres, type PgStep } from '../core/postgres-plan';
import { TransientError } from '../errors';
import { errorFields, type Logger } from '../log/logger';
import type { Callbacks } from './callbacks';
import { CallbackEvents } from './callback-events';
import type { LocalService, ReconcileContext } from '../loop/ports';
import type { LocalPostgres, PostgresSnapshot } from '../postgres/local-postgres';
import type { ClusterObjects } from './cluster-objects';
import {
  clusterTimeline,
  DynamicConfigReader,
  failoverRequest,
  leaderOptime,
  leaderUpstream,
  memberRecords,
  openRequest,
  outdatedRevisions,
  promotable,
} from './cluster-view';
import { type DynamicConfig, effectiveTiming, type Timing } from './dynamic-config';
import { handOver, switchoverDue } from './hand-over';
import { leaderDuties } from './leader-duties';
import { type SyncMemory, syncDuties } from './sync-duties';
import { type MemberTags, positionOf, statusFields } from './member-facts';
import { peerCandidates } from './peer-status';
import { runStep, type StepState } from './postgres-steps';
import { RestartSchedule, restartFacts } from './restart-schedule';
import { leaderSlotPositions, slotDuties, slotsAnnotation } from './slot-duties';
import { slotNameForMember } from '../postgres/slot-name';
import { scheduledRestartJson, scheduledRestartVerdict } from '../core/scheduled-restart';
import type { FenceFile } from '../fence/fence-file';
import type { FenceWatchdog } from '../fence/watchdog-process';

export interface PostgresServiceProps {
  readonly pg: LocalPostgres;
  /** The fence file the watchdog reads: the lease deadline, armed unless bootstrapping or paused. */
  readonly fence: FenceFile;
  /** The watchdog process beside the agent. */
  readonly watchdog: FenceWatchdog;
  readonly store: ClusterObjects;
  readonly config: AgentConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Runs the HA loop now (a step finished, Postgres crashed). */
  readonly wake: () => void;
  /** This node acts as leader right now (the loop's local lease). */
  readonly leadingNow: () => boolean;
  /** Patroni's callbacks (`postgresql.callbacks`). */
  readonly callbacks: Callbacks;
}

/** Cluster states of a stopped data directory whose server last ran as a primary. */
const PRIMARY_STATES = new Set(['in production', 'shut down', 'in crash recovery']);
/** A snapshot read must never hold up a renew for long. */
const SNAPSHOT_TIMEOUT_MS = 3000;

/**
 * PostgreSQL as the HA loop's local service: reads a snapshot before every observation, answers whether this
 * member may lead, and after every run brings Postgres in line with the lock through one planned step
 * (`core/postgres-plan.ts`) run in the background. A crash is reported by the postmaster supervisor at once.
 */
export class PostgresService implements LocalService {
  private snap: PostgresSnapshot | undefined;
  private busy: Promise<void> | undefined;
  private shutdown = false;
  private down = false;
  private crashed = false;
  private giveUp = false;
  private leaderDownSince: number | undefined;
  private formerPrimaryKnown = false;
  private snapFailed = false;
  private timingError: string | undefined;
  private lastGoodTiming: Timing;
  private lastStepLogged = '';
  private reloadRequested = false;
  /** Monotonic time this member last handed the lock over in a switchover. */
  private handedOverAt: number | undefined;
  private readonly events: CallbackEvents;
  private readonly state: StepState = {
    opState: undefined,
    formerPrimary: false,
    upstream: undefined,
    rewindFailedFor: undefined,
    refused: undefined,
    checkpointPending: false,
    actsAsPrimary: false,
    bootstrapping: false,
  };
  /** Monotonic time of the last snapshot read, and the read in flight. */
  private snapAt: number | undefined;
  private refreshing: Promise<void> | undefined;
  /** The last step that failed and when (monotonic ms): the same step waits for the regular schedule. */
  private failed: { kind: PgStep['kind']; at: number } | undefined;
  private readonly dynamic: DynamicConfigReader;
  private dyn: DynamicConfig;
  private published: { positions: Record<string, unknown>; other: string; at: number } | undefined;
  private lastPosition: bigint | undefined;
  private appliedParameters: string | undefined;
  private readonly syncMemory: SyncMemory = { ssnChangedAt: undefined };
  private readonly tags: MemberTags;
  /** The leader's slots and their positions as last listed (published on the lock); undefined until listed. */
  private slotPositions: Record<string, bigint> | undefined;
  /** Monotonic time a replica last kept its slots in line. */
  private replicaSlotsAt: number | undefined;
  /** `POST /restart` with a schedule: the restart the loop carries out at its time. */
  readonly restarts = new RestartSchedule();
  /** The database was checked to accept the passwords in force since this member last became the running primary. */
  private passwordsAligned = false;
  /** The password files last found unusable, so each is logged once, not every loop. */
  private unusablePasswordFiles = '';

  constructor(private readonly props: PostgresServiceProps) {
    this.events = new CallbackEvents((action, role) => props.callbacks.fire(action, role));
    this.tags = props.config.tags;
    this.lastGoodTiming = { ttl: props.config.ttl, loopWait: props.config.loopWait, retryTimeout: props.config.retryTimeout };
    this.dynamic = new DynamicConfigReader((error) => props.logger.error('dynamic configuration unreadable; keeping the last good one', { error }));
    this.dyn = this.dynamic.read(undefined);
    props.pg.onEvent((e) => {
      if (e.type === 'exited' && !e.expected) {
        this.crashed = true;
        this.state.actsAsPrimary = false;
        props.wake();
      } else if (e.type === 'started') this.crashed = false;
    });
  }

  /**
   * Before the REST API and the loop start: a postgres left running by a previous agent is stopped, the fence file
   * says no primary may run (nothing leads yet), and the watchdog starts.
   */
  async prepare(): Promise<void> {
    await this.props.pg.stopStray(this.props.config.shutdownTimeout * 1000);
    this.props.fence.init();
    this.props.watchdog.start();
  }

  /** The loop's lease deadline changed; the fence outside this process follows it. */
  leaseChanged(deadline: number | null): void {
    this.props.fence.setLease(deadline);
    if (deadline !== null && this.state.bootstrapping) {
      // The bootstrapped primary now runs under a lease like any other.
      this.state.bootstrapping = false;
      this.fenceArmedNow();
    }
  }

  /** Fencing is off while a bootstrap runs before the lock exists, and in pause (where nothing is stopped). */
  private fenceArmedNow(): void {
    this.props.fence.setArmed(!this.state.bootstrapping && !this.dyn.pause);
  }

  get snapshot(): PostgresSnapshot | undefined {
    return this.snap;
  }

  /**
   * ttl, loop_wait and retry_timeout in force (seconds): the dynamic ones where set and consistent. A combination the
   * agent must refuse is refused whole and reported; the timings in force until then stay (never the defaults).
   */
  timing(): Timing {
    const c = this.props.config;
    const { timing, error } = effectiveTiming({ ttl: c.ttl, loopWait: c.loopWait, retryTimeout: c.retryTimeout }, this.dyn);
    if (error && error !== this.timingError) {
      this.props.logger.error('dynamic timings not applied', {
        error,
        ttl: this.dyn.ttl,
        loopWait: this.dyn.loopWait,
        retryTimeout: this.dyn.retryTimeout,
        inForce: this.lastGoodTiming,
      });
    }
    this.timingError = error;
    if (!error) this.lastGoodTiming = timing;
    return this.lastGoodTiming;
  }

  get dynamicConfig(): DynamicConfig {
    return this.dyn;
  }

  get initialize(): string | undefined {
    return this.props.store.object('config')?.metadata.annotations?.initialize;
  }

  /** The state to publish (Patroni's strings). */
  memberState(): MemberState {
    if (this.state.opState) return this.state.opState;
    if (this.state.refused) return 'start failed';
    const s = this.snap;
    if (!s || !s.running) return this.crashed ? 'crashed' : 'stopped';
    return s.accepting ? 'running' : 'starting';
  }

  /**
   * Re-reads the snapshot unless one is at most `maxAgeMs` old (or being read). `GET /patroni` asks this, so a member
   * racing for the lock compares the others' positions as they are, not as they were one loop ago.
   */
  async ensureFresh(maxAgeMs: number): Promise<void> {
    if (this.snapAt !== undefined && this.props.clock.monotonicMs() - this.snapAt <= maxAgeMs) return;
    await this.refresh();
  }

  /** Re-reads the state (one read at a time: a caller that arrives meanwhile shares it). */
  refresh(): Promise<void> {
    this.refreshing ??= this.readState().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async readState(): Promise<void> {
    if (this.down) return;
    this.dyn = this.dynamic.read(this.props.store.object('config'));
    this.fenceArmedNow();
    try {
      const snap = await Promise.race([this.props.pg.snapshot(), new Promise<undefined>((r) => setTimeout(() => r(undefined), SNAPSHOT_TIMEOUT_MS).unref())]);
      if (!snap) {
        this.props.logger.warn('postgres state not read within its bound; keeping the last one', {
          timeoutMs: SNAPSHOT_TIMEOUT_MS,
          lastReadMsAgo: this.snapAt === undefined ? null : Math.round(this.props.clock.monotonicMs() - this.snapAt),
        });
        return;
      }
      this.snap = snap;
      this.snapAt = this.props.clock.monotonicMs();
      await this.followPasswordFiles();
      if (snap.server && !this.busy && !this.state.opState && !this.state.bootstrapping)
        this.events.seenRunning(snap.server.inRecovery ? 'replica' : 'primary');
      if (snap.server) {
        this.state.actsAsPrimary = !snap.server.inRecovery;
        if (!snap.server.inRecovery) this.state.formerPrimary = true;
        this.lastPosition = positionOf(snap) ?? this.lastPosition;
      } else if (!snap.running && !this.formerPrimaryKnown && snap.dataDir?.kind === 'initialized') {
        this.state.formerPrimary = PRIMARY_STATES.has(snap.dataDir.control.clusterState);
      }
      if (snap.dataDir || snap.server) this.formerPrimaryKnown = true;
      this.snapFailed = false;
    } catch (err) {
      // The data directory cannot be read (permissions, a broken volume): nothing is planned on a guess, but a
      // leader whose Postgres is down still gives the lock up after primary_start_timeout.
      if (!this.snapFailed) this.props.logger.warn('could not read the postgres state', errorFields(err));
      this.snap = Object.freeze({ running: this.props.pg.pid !== undefined, accepting: false, error: String(err) });
      this.snapFailed = true;
    }
  }

  /** A rotated Secret: a changed password file is in force at once; the primary sets it in the database (duties). */
  private async followPasswordFiles(): Promise<void> {
    const { changed, unusable, passfileError } = await this.props.pg.rereadPasswords();
    if (passfileError) this.props.logger.warn('could not write the password file; trying again next loop', { error: passfileError });
    if (changed.length) {
      this.props.logger.info('a password file changed; the new password is in force', { roles: changed });
      this.passwordsAligned = false;
    }
    const key = JSON.stringify(unusable);
    if (key !== this.unusablePasswordFiles && unusable.length)
      this.props.logger.warn('a password file cannot be used; keeping the password in force', { files: unusable });
    this.unusablePasswordFiles = key;
  }

  /** On the primary: the superuser and replication passwords stored as the files say (once per change or term). */
  private async alignPasswords(): Promise<void> {
    try {
      const set = await this.props.pg.alignRolePasswords();
      if (set.length) this.props.logger.info('set the passwords of the agent roles in the database', { roles: set });
      this.passwordsAligned = true;
    } catch (err) {
      this.props.logger.warn('could not set the passwords of the agent roles; trying again next loop', errorFields(err));
    }
  }

  healthy(): boolean {
    const s = this.snap;
    if (this.shutdown || this.down || this.giveUp || this.state.refused) return false;
    // In pause only the candidate a manual switchover names may take the lock.
    if (this.dyn.pause && failoverRequest(this.props.store.object('failover'))?.member !== this.props.config.name) return false;
    if (!s?.server || this.state.opState) return false;
    const init = this.initialize;
    return !init || init === s.server.systemIdentifier;
  }

  stopped(): boolean {
    return this.down || (this.giveUp && !this.snap?.running);
  }

  facts() {
    const s = this.snap?.server;
    return { state: this.memberState(), primaryReady: !!s && !s.inRecovery && !this.state.checkpointPending, giveUp: this.giveUp };
  }

  /** Patroni's Pod status fields. Positions change at most every `positionIntervalMs` (see README: status writes). */
  statusExtra(): Record<string, unknown> {
    const scheduled = this.restarts.current;
    const { positions, other } = statusFields({
      snap: this.snap,
      tags: this.tags,
      checkpointPending: this.state.checkpointPending,
      paused: this.dyn.pause,
      ...(scheduled ? { scheduledRestart: scheduledRestartJson(scheduled, true) } : {}),
    });
    const now = this.props.clock.monotonicMs();
    const otherText = JSON.stringify(other);
    const interval = Math.max(this.props.config.loopWait, 10) * 1000;
    if (!this.published || this.published.other !== otherText || now - this.published.at >= interval) this.published = { positions, other: otherText, at: now };
    return { ...this.published.positions, ...(JSON.parse(this.published.other) as Record<string, unknown>) };
  }

  runsAsPrimary(): boolean {
    const s = this.snap?.server;
    return !!s && !s.inRecovery;
  }

  /**
   * Annotations on every lock write: the leader's position (`optime`), its slots' positions (`slots`, once listed)
   * and, in failsafe mode, its topology.
   */
  lockAnnotations(): Record<string, string | null> {
    const failsafe = this.dyn.failsafeMode
      ? failsafeAnnotation(memberRecords(this.props.store.podObjects()), this.props.config.name, ownApiUrl(this.props.config))
      : null;
    return {
      ...(this.lastPosition !== undefined ? { optime: String(this.lastPosition) } : {}),
      ...(this.slotPositions !== undefined ? { slots: slotsAnnotation(this.slotPositions) } : {}),
      failsafe,
    };
  }

  async mayAcquire(obs: Observation): Promise<boolean> {
    try {
      const store = this.props.store;
      const members = memberRecords(store.podObjects());
      const req = openRequest(failoverRequest(store.object('failover')), obs.lock.holder);
      const others = await peerCandidates(members, this.props.config.name);
      const s = this.snap?.server;
      const own = members.find((m) => m.name === this.props.config.name);
      const verdict = raceVerdict(
        {
          name: this.props.config.name,
          lsn: positionOf(this.snap),
          timeline: s?.timeline,
          failoverPriority: this.tags.failoverPriority,
          ...(own?.revision ? { revision: own.revision } : {}),
        },
        others,
        {
          leaderOptime: leaderOptime(store.object('leader')),
          clusterTimeline: clusterTimeline(store.object('config')),
          maximumLagOnFailover: this.dyn.maximumLagOnFailover ?? this.props.config.maximumLagOnFailover,
          syncStandbys: this.dyn.synchronousMode ? promotable(store.object('sync')) : undefined,
          candidate: req?.member,
          switchingFrom: req?.leader,
          outdatedRevisions: outdatedRevisions(members),
        },
      );
      if (!verdict.ok) this.props.logger.info('not racing for the lock', { why: verdict.why, holder: obs.lock.holder });
      return verdict.ok;
    } catch (err) {
      this.props.logger.warn('candidate check failed; not racing', errorFields(err));
      return false;
    }
  }

  reconcile(ctx: ReconcileContext): void {
    if (this.down || this.shutdown || ctx.shuttingDown) return;
    this.trackLeaderDown(ctx);
    // Nothing is planned before the caches are synced: an empty cache looks like a cluster without a leader or a
    // system identifier, and a data directory of another cluster would be started.
    if (this.busy || this.snapFailed || !ctx.storeReady) return;
    const members = memberRecords(this.props.store.podObjects());
    const step = this.giveUp
      ? ({ kind: 'none', why: 'primary could not come back; lock to be released' } as const)
      : planPostgres({
          name: this.props.config.name,
          pg: {
            dataDir: this.snap?.server ? 'initialized' : (this.snap?.dataDir?.kind ?? 'missing'),
            systemIdentifier:
              this.snap?.server?.systemIdentifier ?? (this.snap?.dataDir?.kind === 'initialized' ? this.snap.dataDir.control.systemIdentifier : undefined),
            running: this.snap?.running ?? false,
            accepting: this.snap?.accepting ?? false,
            inRecovery: this.snap?.server?.inRecovery,
            upstream: this.state.upstream,
            formerPrimary: this.state.formerPrimary,
          },
          leading: ctx.leading,
          holder: ctx.lock.holder,
          leaderUpstream: leaderUpstream(members, ctx.lock.holder),
          initialize: this.initialize,
          paused: this.dyn.pause,
          shuttingDown: ctx.shuttingDown,
          usePgRewind: this.props.config.postgresql.usePgRewind,
          rewindFailed: this.state.rewindFailedFor !== undefined && this.state.rewindFailedFor === ctx.lock.holder,
          removeDataOnRewindFailure: this.props.config.postgresql.removeDataDirectoryOnRewindFailure,
          removeDataOnDivergedTimelines: this.props.config.postgresql.removeDataDirectoryOnDivergedTimelines,
          awaitingSuccessor: this.awaitingSuccessor(ctx.lock.holder),
          bootstrapped: this.state.bootstrapping,
        });
    const request = failoverRequest(this.props.store.object('failover'));
    if (step.kind === 'none' && ctx.leading && switchoverDue(request, this.props.config.name, this.snap, this.props.clock.wallTime())) {
      const { store, logger, pg, config } = this.props;
      this.busy = handOver({
        store,
        logger,
        pg,
        name: config.name,
        stopTimeoutMs: config.shutdownTimeout * 1000,
        state: this.state,
        giveUp: () => (this.giveUp = true),
        events: this.events,
      })
        .then((handedOver) => {
          if (handedOver) this.handedOverAt = this.props.clock.monotonicMs();
        })
        .catch((err: unknown) => this.props.logger.error('switchover failed', errorFields(err)))
        .finally(() => {
          this.busy = undefined;
          this.props.wake();
        });
      return;
    }
    if (step.kind === 'none' && this.scheduledRestartStarted()) return;
    const params = JSON.stringify({ parameters: this.wantedParameters(), pgHba: this.wantedHba() });
    if (step.kind === 'none' && this.snap?.accepting && params !== this.appliedParameters) {
      this.busy = this.applyParameters(params).finally(() => {
        this.busy = undefined;
      });
      return;
    }
    // Positions listed while leading are published only while leading.
    if (!ctx.leading) this.slotPositions = undefined;
    const duties = step.kind === 'none' && ctx.leading && this.snap?.server && !this.snap.server.inRecovery && !this.state.checkpointPending;
    if (!duties) this.passwordsAligned = false;
    // Logged once per change, waiting states included ("rewind failed; waiting for reinit"): why Postgres is as it is.
    this.logStep(step);
    if (step.kind === 'none' && !ctx.leading && this.replicaSlotsDue()) {
      this.busy = this.replicaSlots(ctx).finally(() => {
        this.busy = undefined;
      });
      return;
    }
    if (step.kind === 'none' && !duties) return;
    if (this.mustWait(step)) return;
    const started = this.snap;
    // A step changes what the next run sees; run again as soon as it is done.
    let again = step.kind !== 'none';
    this.busy = (async () => {
      if (duties) {
        const { pg, store, logger, config } = this.props;
        again = started ? await syncDuties({ pg, store, logger, name: config.name, dyn: this.dyn, snap: started, memory: this.syncMemory }) : false;
        const positions = await leaderDuties({
          pg,
          store,
          logger,
          name: config.name,
          systemIdentifier: started?.server?.systemIdentifier,
          now: this.props.clock.wallTime(),
          slots: this.dyn.slots,
          paused: this.dyn.pause,
        });
        if (positions && this.props.leadingNow()) this.slotPositions = positions;
        if (!this.passwordsAligned) await this.alignPasswords();
      } else {
        await runStep(step, this.stepContext(ctx));
        // Whatever the step did to the files, the parameters are checked again once Postgres answers.
        this.appliedParameters = undefined;
      }
    })()
      .catch((err: unknown) => {
        // A failed step is tried again on the regular schedule (loop_wait), not at once: an immediate retry of a
        // step that keeps failing (initdb on an unusable volume, a clone from a leader that refuses, a server
        // that exits at start) would spin and hammer the API server with initialize-race writes.
        again = false;
        this.failed = { kind: step.kind, at: this.props.clock.monotonicMs() };
        this.props.logger.error('postgres step failed', { step: step.kind, retryInSeconds: this.props.config.loopWait, ...errorFields(err) });
      })
      .finally(() => {
        this.busy = undefined;
        if (again) this.props.wake();
      });
  }

  /**
   * Whether `step` must wait: it failed last time less than loop_wait ago. A stop is never held back (it is how a
   * primary without the lock stops taking writes).
   */
  private mustWait(step: PgStep): boolean {
    const f = this.failed;
    if (!f || step.kind === 'stop' || step.kind !== f.kind) return false;
    if (this.props.clock.monotonicMs() - f.at >= this.timing().loopWait * 1000) {
      this.failed = undefined;
      return false;
    }
    return true;
  }

  /** A streaming replica keeps its slots in line once per loop_wait (a listing each time; nothing when in line). */
  private replicaSlotsDue(): boolean {
    const s = this.snap;
    if (!s?.accepting || !s.server?.inRecovery) return false;
    const now = this.props.clock.monotonicMs();
    return this.replicaSlotsAt === undefined || now - this.replicaSlotsAt >= this.timing().loopWait * 1000;
  }

  /** The permanent slots on a replica, advanced to the leader's positions; the slots left from leading dropped. */
  private async replicaSlots(ctx: ReconcileContext): Promise<void> {
    this.replicaSlotsAt = this.props.clock.monotonicMs();
    const { pg, logger, config, store } = this.props;
    try {
      await slotDuties({
        pg,
        logger,
        role: 'replica',
        ownSlot: slotNameForMember(config.name),
        memberSlots: [],
        slots: this.dyn.slots,
        paused: this.dyn.pause,
        ...(ctx.lock.holder ? { leaderPositions: leaderSlotPositions(store.object('leader')) } : {}),
      });
    } catch (err) {
      logger.warn('could not keep the replication slots of a replica', errorFields(err));
    }
  }

  /**
   * The scheduled restart, if one is due: started (true), else dropped, kept or waited for as
   * `core/scheduled-restart.ts` decides. Schedules are wall-clock times (Patroni's), the one place wall time decides.
   */
  private scheduledRestartStarted(): boolean {
    const scheduled = this.restarts.current;
    const nowMs = this.props.clock.wallTime().getTime();
    const v = scheduledRestartVerdict({
      scheduled,
      nowMs,
      loopWaitMs: this.timing().loopWait * 1000,
      paused: this.dyn.pause,
      facts: restartFacts(this.snap),
    });
    switch (v.kind) {
      case 'none':
      case 'hold':
        return false;
      case 'wait':
        this.restarts.wakeIn(v.inMs, nowMs, this.props.wake);
        return false;
      case 'cancel':
        this.props.logger.warn('scheduled restart dropped', { why: v.why, schedule: scheduled && scheduledRestartJson(scheduled, false).schedule });
        this.restarts.clear();
        this.props.wake();
        return false;
      case 'restart': {
        this.restarts.clear();
        this.props.logger.info('scheduled restart', { schedule: scheduled && scheduledRestartJson(scheduled, false).schedule });
        void this.restartPostgres((scheduled?.timeoutSeconds ?? this.props.config.shutdownTimeout) * 1000);
        return true;
      }
    }
  }

  /** `POST /restart`: stops and starts Postgres (between loop steps). False when it failed. */
  async restartPostgres(stopTimeoutMs: number): Promise<boolean> {
    return this.exclusive(async () => {
      this.state.opState = 'restarting';
      try {
        await this.props.pg.restart('fast', stopTimeoutMs, { expectedSystemIdentifier: this.initialize || undefined });
        this.events.restarted(this.state.actsAsPrimary ? 'primary' : 'replica');
        return true;
      } catch (err) {
        this.props.logger.warn('restart failed', errorFields(err));
        return false;
      } finally {
        this.state.opState = undefined;
      }
    });
  }

  /** `POST /reload`: the parameters are applied again on the next run. */
  requestReload(): void {
    this.appliedParameters = undefined;
    this.reloadRequested = true;
  }

  /** `POST /reinitialize`: stop, empty the data directory; the next runs clone it from the leader. */
  async reinitialize(): Promise<boolean> {
    if (this.busy) return false;
    return this.exclusive(async () => {
      await this.props.pg.stop('fast', this.props.config.shutdownTimeout * 1000);
      await this.props.pg.removeData({ expectedSystemIdentifier: this.initialize || undefined });
      this.state.formerPrimary = false;
      this.state.upstream = undefined;
      this.state.rewindFailedFor = undefined;
      this.state.opState = undefined;
      this.failed = undefined;
      return true;
    });
  }

  /** Runs `fn` when no step runs, and keeps steps out meanwhile. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.busy) await this.busy;
    let release!: () => void;
    this.busy = new Promise<void>((r) => (release = r));
    try {
      return await fn();
    } finally {
      this.busy = undefined;
      release();
      this.props.wake();
    }
  }

  /** The client lines of pg_hba.conf: the member's own, else the dynamic ones (a member's own file wins, as in Patroni). */
  private wantedHba(): readonly string[] | undefined {
    return this.props.config.postgresql.pgHba ?? this.dyn.pgHba;
  }

  /** The parameters Postgres should run with: the member's own, then the dynamic ones (as Patroni layers them). */
  private wantedParameters(): Record<string, string | number | boolean> {
    return { ...this.props.config.postgresql.parameters, ...this.dyn.parameters };
  }

  leadershipLost(cause: string): void {
    // Stop accepting writes at once: an immediate stop, before the lock can expire anywhere else. The loop
    // restarts it as a standby (after a rewind) once it knows the new leader.
    if (this.state.actsAsPrimary && this.props.pg.pid !== undefined && cause !== 'shutdown') {
      this.props.logger.warn('leadership lost while running as a primary; stopping postgres now', { cause });
      this.state.actsAsPrimary = false;
      this.state.formerPrimary = true;
      void this.props.pg.stop('immediate', 5000).catch((err: unknown) => this.props.logger.error('could not stop postgres', errorFields(err)));
    }
  }

  /** Shutdown: Postgres stops (fast, within shutdown_timeout) before the loop releases the lock. */
  async stop(): Promise<void> {
    this.shutdown = true;
    this.restarts.disarm();
    if (this.down) return;
    try {
      const role = this.state.actsAsPrimary ? 'primary' : 'replica';
      const { wasRunning } = await this.props.pg.stop('fast', this.props.config.shutdownTimeout * 1000);
      if (wasRunning && !this.state.bootstrapping) this.events.stopped(role);
      // Nothing is left to fence (a postgres that would not stop keeps its watchdog).
      this.props.watchdog.stop();
      // Stopped in the middle of a bootstrap: give the initialize race back, or no member would ever bootstrap.
      if (this.state.bootstrapping) await this.giveBackInitialize();
    } finally {
      this.down = true;
      // No more snapshots are read; what `GET /patroni` answers from now on must not show a running primary, or
      // the candidates racing for the released lock would wait for it.
      this.snap = Object.freeze({ running: false, accepting: false });
      this.state.actsAsPrimary = false;
    }
  }

  private async giveBackInitialize(): Promise<void> {
    try {
      if (await this.props.store.releaseInitialize()) this.props.logger.info('gave the initialize race back on shutdown', {});
    } catch (err) {
      this.props.logger.warn('could not give the initialize race back', errorFields(err));
    }
  }

  /**
   * Applies `{ parameters, pgHba }` (JSON, as compared between runs). A refusal (a value PostgreSQL rejects) is logged
   * once and not retried until the wanted settings change; a failure to reach Postgres is retried on the next run.
   * A reload that happened (or `POST /reload`) runs the `on_reload` callback.
   */
  private async applyParameters(text: string): Promise<void> {
    const wanted = JSON.parse(text) as { parameters: Record<string, string | number | boolean>; pgHba?: string[] };
    let reloaded = this.reloadRequested;
    let retry = false;
    try {
      const change = await this.props.pg.applyParameters(wanted.parameters);
      if (change.changed.length > 0) {
        this.props.logger.info('postgres parameters applied', { changed: change.changed, restartRequired: change.restartRequired });
        reloaded = true;
      }
    } catch (err) {
      retry ||= err instanceof TransientError;
      this.props.logger.warn('could not apply postgres parameters', { willRetry: retry, ...errorFields(err) });
    }
    try {
      if (await this.props.pg.applyHba(wanted.pgHba)) {
        this.props.logger.info('pg_hba.conf applied', { lines: wanted.pgHba?.length ?? null });
        reloaded = true;
      }
    } catch (err) {
      const transient = err instanceof TransientError;
      retry ||= transient;
      this.props.logger.warn('could not apply pg_hba.conf; the previous rules stay in force', { willRetry: transient, ...errorFields(err) });
    }
    this.reloadRequested = false;
    if (reloaded) this.events.reloaded(this.state.actsAsPrimary ? 'primary' : 'replica');
    this.appliedParameters = retry ? undefined : text;
  }

  /** Handed over within ttl, and nobody holds the lock yet. */
  private awaitingSuccessor(holder: string | null): boolean {
    if (this.handedOverAt === undefined) return false;
    if (holder !== null || this.props.clock.monotonicMs() - this.handedOverAt >= this.timing().ttl * 1000) {
      this.handedOverAt = undefined;
      return false;
    }
    return true;
  }

  private trackLeaderDown(ctx: ReconcileContext): void {
    if (!ctx.leading) {
      this.leaderDownSince = undefined;
      this.giveUp = false;
      return;
    }
    if (this.snap?.running || this.dyn.pause) {
      this.leaderDownSince = undefined;
      return;
    }
    const now = this.props.clock.monotonicMs();
    this.leaderDownSince ??= now;
    const bound = (this.dyn.primaryStartTimeout ?? this.props.config.primaryStartTimeout) * 1000;
    if (!this.giveUp && now - this.leaderDownSince >= bound) {
      this.giveUp = true;
      this.props.logger.error('primary did not come back within primary_start_timeout; releasing the lock', { seconds: bound / 1000 });
    }
  }

  private stepContext(ctx: ReconcileContext) {
    const bound = (this.dyn.primaryStartTimeout ?? this.props.config.primaryStartTimeout) * 1000;
    return {
      pg: this.props.pg,
      store: this.props.store,
      config: this.props.config,
      logger: this.props.logger,
      clock: this.props.clock,
      state: this.state,
      initialize: this.initialize,
      holder: ctx.lock.holder,
      leadingNow: this.props.leadingNow,
      snapshot: this.snap,
      // A leader's start is bounded by primary_start_timeout; a standby may take its time (crash recovery).
      startTimeoutMs: ctx.leading ? Math.max(bound, 5000) : 120_000,
      parameters: this.wantedParameters(),
      pgHba: this.wantedHba(),
      fenceChanged: () => this.fenceArmedNow(),
      events: this.events,
    };
  }

  private logStep(step: PgStep): void {
    const key = JSON.stringify(step);
    if (key === this.lastStepLogged) return;
    this.lastStepLogged = key;
    this.props.logger.info('postgres step', {
      step: step.kind,
      ...('upstream' in step ? { upstream: step.upstream } : {}),
      ...('why' in step ? { why: step.why } : {}),
    });
  }
}
