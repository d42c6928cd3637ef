import type { CallbackEvents } from './callback-events';
import type { Logger } from '../log/logger';
import type { LocalPostgres, PostgresSnapshot } from '../postgres/local-postgres';
import type { ClusterObjects } from './cluster-objects';
import { type FailoverRequest, failoverRequest, memberRecords } from './cluster-view';
import { peerCandidates } from './peer-status';
import type { StepState } from './postgres-steps';

/** A switchover request asks this leader (running as a primary) to hand over now. Pure. */
export function switchoverDue(req: FailoverRequest | undefined, me: string, snap: PostgresSnapshot | undefined, now: Date): boolean {
  if (!req || req.member === me || !snap?.server || snap.server.inRecovery) return false;
  if (req.leader !== undefined && req.leader !== me) return false;
  if (req.scheduledAt && Date.parse(req.scheduledAt) > now.getTime()) return false;
  return true;
}

/**
 * The leader's half of a switchover: check that someone can take over, checkpoint (so the stop is quick), stop
 * fast (replicas receive the shutdown checkpoint), then ask the loop to release the lock (`giveUp`). No fixed
 * sleeps: the candidates race the moment the lock is released, and the request keeps everyone but its candidate
 * (and this member) out of the race. True when it handed over; false when no candidate was fit (request cleared).
 */
export async function handOver(c: {
  store: ClusterObjects;
  logger: Logger;
  pg: LocalPostgres;
  name: string;
  stopTimeoutMs: number;
  state: StepState;
  giveUp: () => void;
  events: CallbackEvents;
}): Promise<boolean> {
  const { store, logger, pg, state } = c;
  const req = failoverRequest(store.object('failover'));
  const others = await peerCandidates(memberRecords(store.podObjects()), c.name);
  const fit = others.filter((o) => o.reachable && !o.isPrimary && !o.nofailover && o.failoverPriority > 0 && (!req?.member || o.name === req.member));
  if (fit.length === 0) {
    logger.warn('switchover not possible: no healthy candidate; request cleared', { request: req });
    await store.patchObject('failover', { leader: null, member: null, scheduled_at: null }, undefined);
    return false;
  }
  logger.info('switchover: handing over', { candidate: req?.member ?? null });
  await pg.checkpoint();
  c.giveUp();
  state.opState = 'stopping';
  try {
    await pg.stop('fast', c.stopTimeoutMs);
    c.events.stopped('primary');
  } finally {
    state.opState = undefined;
    state.actsAsPrimary = false;
    state.formerPrimary = true;
  }
  return true;
}
