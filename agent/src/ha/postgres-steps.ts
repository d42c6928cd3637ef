import type { CallbackEvents } from './callback-events';
import type { Clock } from '../clock';
import type { AgentConfig } from '../config/agent-config';
import type { PgStep } from '../core/postgres-plan';
import type { MemberState } from '../core/model';
import { FatalError } from '../errors';
import { errorFields, type Logger } from '../log/logger';
import type { Upstream } from '../postgres/conninfo';
import type { LocalPostgres, PostgresSnapshot } from '../postgres/local-postgres';
import type { ClusterObjects } from './cluster-objects';
import { createMemberSlots, recordPromotion } from './leader-duties';

/** The mutable facts the steps keep about the local Postgres between loop runs (owned by `PostgresService`). */
export interface StepState {
  /** The Patroni state to show while a step runs or after it failed; undefined: derived from the snapshot. */
  opState: MemberState | undefined;
  formerPrimary: boolean;
  upstream: string | undefined;
  rewindFailedFor: string | undefined;
  refused: string | undefined;
  checkpointPending: boolean;
  actsAsPrimary: boolean;
  /** Bootstrapping before the lock exists: the primary runs without a lease, so the fence is off meanwhile. */
  bootstrapping: boolean;
}

export interface StepContext {
  readonly pg: LocalPostgres;
  readonly store: ClusterObjects;
  readonly config: AgentConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly state: StepState;
  /** The snapshot the step was planned on. */
  readonly snapshot: PostgresSnapshot | undefined;
  /** The `initialize` annotation (the cluster's system identifier). */
  readonly initialize: string | undefined;
  readonly holder: string | null;
  /** Checked right before promoting: this node still acts as leader. */
  readonly leadingNow: () => boolean;
  readonly startTimeoutMs: number;
  /** The parameters Postgres must start with (the member's own, then the dynamic ones). */
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  /** Client lines of pg_hba.conf; undefined: the agent's catch-all. */
  readonly pgHba: readonly string[] | undefined;
  /** The fence follows `state.bootstrapping`; called right after it changes. */
  readonly fenceChanged: () => void;
  /** Patroni's callbacks for what the steps do (none while bootstrapping). */
  readonly events: CallbackEvents;
}

export function parseUpstream(hostPort: string): Upstream {
  const i = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) };
}

const MISMATCH = /another cluster|holds no PostgreSQL/;

/**
 * Runs one step. A failure leaves a state to publish and is thrown to the caller, which retries on the regular
 * schedule; a data directory of another cluster is refused for good (`state.refused`) instead.
 */
export async function runStep(step: PgStep, c: StepContext): Promise<void> {
  const { pg, state: s, logger } = c;
  const guard = { expectedSystemIdentifier: c.initialize || undefined };
  try {
    switch (step.kind) {
      case 'none':
        return;
      case 'refuse':
        if (s.refused !== step.why)
          logger.error('refusing to touch the data directory', { reason: step.why, dataDir: c.config.postgresql.dataDir, expected: c.initialize });
        s.refused = step.why;
        return;
      case 'initialize':
        await initialize(c);
        return;
      case 'clone':
        s.opState = 'creating replica';
        await pg.createReplica(parseUpstream(step.upstream), guard);
        s.upstream = step.upstream;
        s.formerPrimary = false;
        s.opState = undefined;
        return;
      case 'start':
        s.opState = 'starting';
        // A copy (clone, rewind) carries the member's own parameters only; a standby must start with at least the
        // primary's values for settings like max_connections, so the dynamic ones are written first.
        await pg.applyParameters(c.parameters);
        await pg.applyHba(c.pgHba);
        if (!step.asLeader) {
          await pg.follow(step.upstream ? parseUpstream(step.upstream) : undefined, guard);
          s.upstream = step.upstream;
        }
        await pg.start({ ...guard, timeoutMs: c.startTimeoutMs });
        s.opState = undefined;
        if (!s.bootstrapping) c.events.started(step.asLeader ? 'primary' : 'replica');
        return;
      case 'promote':
        // The plan was made while leading; the lease may have ended since. Promote only while it holds.
        if (!c.leadingNow()) return;
        s.actsAsPrimary = true;
        s.checkpointPending = true;
        await pg.promote();
        s.formerPrimary = true;
        s.upstream = undefined;
        c.events.promoted();
        // The others' slots before the checkpoint: they re-point as soon as this member shows itself as primary.
        await createMemberSlots({ pg, store: c.store, logger, name: c.config.name }).catch((err: unknown) =>
          logger.warn('could not create the replication slots after promotion; the leader duties retry', errorFields(err)),
        );
        // A checkpoint right away: a former primary can rewind against this one only after it (Patroni's
        // checkpoint_after_promote), and the primary role is published only after it.
        await pg.checkpoint();
        s.checkpointPending = false;
        const before = c.snapshot?.server;
        if (before)
          await recordPromotion({
            store: c.store,
            logger,
            clock: c.clock,
            name: c.config.name,
            oldTimeline: before.timeline,
            switchLsn: before.replayedLsn ?? before.receivedLsn ?? 0n,
          });
        return;
      case 'stop': {
        logger.info('stopping postgres', { reason: step.why, mode: step.mode });
        s.opState = 'stopping';
        const role = s.actsAsPrimary ? 'primary' : 'replica';
        const result = await pg.stop(step.mode, c.config.shutdownTimeout * 1000);
        s.actsAsPrimary = false;
        s.opState = undefined;
        if (result.wasRunning && !s.bootstrapping) c.events.stopped(role);
        return;
      }
      case 'follow':
        await pg.follow(parseUpstream(step.upstream), guard);
        s.upstream = step.upstream;
        return;
      case 'rewind':
        s.opState = 'starting';
        try {
          await pg.rewind(parseUpstream(step.upstream), guard);
          s.formerPrimary = false;
          s.rewindFailedFor = undefined;
          s.upstream = step.upstream;
        } catch (err) {
          if (err instanceof FatalError && MISMATCH.test(err.message)) throw err;
          // Remembered per leader: the plan then removes the data only if the configuration says so, otherwise the
          // member waits for reinit (or a new leader, against which it tries again).
          s.rewindFailedFor = c.holder ?? undefined;
          s.opState = 'stopped';
          throw err;
        }
        s.opState = undefined;
        return;
      case 'remove-data':
        logger.warn('removing the data directory to clone it again', { reason: step.why });
        await pg.removeData(guard);
        s.formerPrimary = false;
        s.rewindFailedFor = undefined;
        s.upstream = undefined;
        return;
    }
  } catch (err) {
    if (err instanceof FatalError && MISMATCH.test(err.message)) {
      s.refused = err.message;
      logger.error('refusing to touch the data directory', errorFields(err));
      s.opState = 'start failed';
      return;
    }
    // The state to publish until the step is tried again; a step that set its own failure state keeps it.
    if (step.kind === 'start') s.opState = 'start failed';
    else if (step.kind === 'clone') s.opState = 'stopped';
    else if (s.opState !== 'bootstrap failed' && step.kind !== 'rewind') s.opState = undefined;
    throw err;
  }
}

async function initialize(c: StepContext): Promise<void> {
  const { pg, store, state: s, logger } = c;
  if (!(await store.claimInitialize())) return;
  logger.info('won the initialize race; bootstrapping the cluster', {});
  s.opState = 'initializing new cluster';
  // The new primary runs before any lock exists; the fence takes over once this member takes the lock.
  s.bootstrapping = true;
  c.fenceChanged();
  try {
    const { systemIdentifier } = await pg.bootstrap();
    const cfg = store.object('config');
    await store.patchObject('config', { initialize: systemIdentifier, config: JSON.stringify(c.config.bootstrapDcs) }, cfg?.metadata.resourceVersion);
    s.formerPrimary = true;
    s.actsAsPrimary = true;
    s.opState = undefined;
    logger.info('cluster bootstrapped', { systemIdentifier });
  } catch (err) {
    logger.error('bootstrap failed; giving the initialize race back', errorFields(err));
    s.opState = 'bootstrap failed';
    try {
      await pg.stop('immediate', 10_000);
    } finally {
      s.bootstrapping = false;
      c.fenceChanged();
    }
    try {
      // Only if nobody recorded a cluster meanwhile: another member may try then.
      await store.releaseInitialize();
    } catch (e) {
      logger.warn('could not give the initialize race back', errorFields(e));
    }
    // Still a failed step: the caller waits for the next regular run before anyone tries again.
    throw err;
  }
}
