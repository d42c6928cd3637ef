import { planSync, type SyncStep } from '../core/sync-plan';
import { errorFields, type Logger } from '../log/logger';
import type { LocalPostgres, PostgresSnapshot } from '../postgres/local-postgres';
import type { ClusterObjects } from './cluster-objects';
import { memberRecords, syncState } from './cluster-view';
import type { DynamicConfig } from './dynamic-config';

/** The leader's synchronous-replication bookkeeping between runs. */
export interface SyncMemory {
  /** Primary flush position when synchronous_standby_names last changed (see `core/sync-plan.ts`). */
  ssnChangedAt: bigint | undefined;
}

/**
 * One step of keeping synchronous_standby_names and `<scope>-sync` consistent (see `core/sync-plan.ts`). Returns
 * whether it changed something (the caller runs again soon, so a change settles in a few runs).
 */
export async function syncDuties(c: {
  pg: LocalPostgres;
  store: ClusterObjects;
  logger: Logger;
  name: string;
  dyn: DynamicConfig;
  snap: PostgresSnapshot;
  memory: SyncMemory;
}): Promise<boolean> {
  const server = c.snap.server;
  if (!server || server.inRecovery) return false;
  const position = server.flushLsn ?? server.currentLsn;
  try {
    const ssn = await c.pg.getSynchronousStandbyNames();
    // Right after a change (or an agent restart) the point from which every commit waits is taken from this run's
    // snapshot: members join once they have flushed up to it.
    if (c.memory.ssnChangedAt === undefined) {
      c.memory.ssnChangedAt = position;
      return true;
    }
    const obj = syncState(c.store.object('sync'));
    const nosync = memberRecords(c.store.podObjects())
      .filter((m) => (m.status.tags as Record<string, unknown> | undefined)?.nosync === true)
      .map((m) => m.name);
    const step: SyncStep = planSync({
      me: c.name,
      enabled: c.dyn.synchronousMode,
      strict: c.dyn.synchronousModeStrict,
      count: c.dyn.synchronousNodeCount,
      object: obj,
      ssn,
      connections: server.replication.map((r) => ({ name: r.applicationName, state: r.state, syncState: r.syncState, flushLsn: r.flushLsn })),
      nosync,
      ssnChangedAt: c.memory.ssnChangedAt,
    });
    if (step.kind === 'none') return false;
    if (step.kind === 'write-object') {
      await c.store.patchObject('sync', { leader: c.name, sync_standby: step.standbys.length > 0 ? step.standbys.join(',') : null }, undefined);
      c.logger.info('synchronous standbys recorded', { syncStandbys: step.standbys });
    } else {
      await c.pg.setSynchronousStandbyNames(step.value);
      // Measured on the next run, once the reload has surely taken effect: from then on every commit waits.
      c.memory.ssnChangedAt = undefined;
      c.logger.info('synchronous_standby_names set', { value: step.value });
    }
    return true;
  } catch (err) {
    c.logger.warn('synchronous replication bookkeeping failed', errorFields(err));
    return false;
  }
}
