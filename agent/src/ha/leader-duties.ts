import type { Clock } from '../clock';
import { errorFields, type Logger } from '../log/logger';
import type { LocalPostgres } from '../postgres/local-postgres';
import { slotNameForMember } from '../postgres/slot-name';
import type { ReplicationSlot } from '../postgres/slots';
import { lockTimestamp } from '../store/layout';
import type { ClusterObjects } from './cluster-objects';
import { failoverRequest, historyOf } from './cluster-view';
import type { SlotConfig } from './slot-config';
import { slotDuties } from './slot-duties';

/**
 * Creates the replication slot of every other member that lacks one (the members' Pods say who they are); returns
 * the slots wanted and those there were. Run at once after a promotion too: a replica re-pointed to a new leader
 * whose slot is missing retries only after wal_retrieve_retry_interval.
 */
export async function createMemberSlots(c: {
  pg: LocalPostgres;
  store: ClusterObjects;
  logger: Logger;
  name: string;
}): Promise<{ want: Set<string>; have: ReplicationSlot[] }> {
  const want = new Set(memberSlotNames(c.store, c.name));
  const have = await c.pg.listSlots();
  for (const slot of want) {
    if (!have.some((s) => s.name === slot)) {
      await c.pg.createSlot(slot);
      c.logger.info('created a replication slot', { slot });
    }
  }
  return { want, have };
}

/**
 * What the leader keeps in order while it runs as a primary, each step safe to repeat: the `initialize` record, a
 * physical slot per member (created when its Pod appears, dropped when it goes) and the permanent slots
 * (`ha/slot-duties.ts`), and the switchover request it carried out cleared. Returns the slots' positions to publish
 * on the leader object, undefined when they could not be read.
 */
export async function leaderDuties(c: {
  pg: LocalPostgres;
  store: ClusterObjects;
  logger: Logger;
  name: string;
  systemIdentifier: string | undefined;
  now: Date;
  slots: SlotConfig;
  paused: boolean;
}): Promise<Record<string, bigint> | undefined> {
  const { pg, store, logger, name } = c;
  try {
    const cfg = store.object('config');
    const init = cfg?.metadata.annotations?.initialize;
    if (c.systemIdentifier && (init === undefined || init === '')) {
      await store.patchObject('config', { initialize: c.systemIdentifier }, cfg?.metadata.resourceVersion);
      logger.info('recorded the system identifier', { systemIdentifier: c.systemIdentifier });
    }
    const req = failoverRequest(store.object('failover'));
    // A request is done once we lead: we were its candidate, or (once due) it asked the previous leader to step down.
    const due = !req?.scheduledAt || Date.parse(req.scheduledAt) <= c.now.getTime();
    if (req && (req.member === name || (due && req.leader !== undefined && req.leader !== name))) {
      await store.patchObject('failover', { leader: null, member: null, scheduled_at: null }, undefined);
      logger.info('switchover request done; cleared', { request: req });
    }
    return await slotDuties({
      pg,
      logger,
      role: 'primary',
      ownSlot: slotNameForMember(name),
      memberSlots: memberSlotNames(store, name),
      slots: c.slots,
      paused: c.paused,
    });
  } catch (err) {
    logger.warn('leader housekeeping failed', errorFields(err));
    return undefined;
  }
}

/** The slots the leader keeps for the other members: one per member Pod. */
function memberSlotNames(store: ClusterObjects, own: string): string[] {
  return store
    .podObjects()
    .map((p) => p.metadata.name)
    .filter((n) => n !== own)
    .map(slotNameForMember);
}

/** Appends a promotion to `history` on `<scope>-config`: `[old timeline, switch LSN, reason, time, new leader]`. */
export async function recordPromotion(c: {
  store: ClusterObjects;
  logger: Logger;
  clock: Clock;
  name: string;
  oldTimeline: number;
  switchLsn: bigint;
}): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const cfg = c.store.object('config');
    const history = historyOf(cfg);
    if (history.some((h) => Array.isArray(h) && h[0] === c.oldTimeline)) return;
    history.push([c.oldTimeline, Number(c.switchLsn), 'no recovery target specified', lockTimestamp(c.clock.wallTime()), c.name]);
    try {
      await c.store.patchObject('config', { history: JSON.stringify(history) }, cfg?.metadata.resourceVersion);
      return;
    } catch (err) {
      c.logger.warn('could not record the promotion in history', errorFields(err));
    }
  }
}
