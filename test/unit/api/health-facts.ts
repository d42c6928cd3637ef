import type { HealthFacts } from '../../../agent/src/api/health';

/** A running primary that holds the lock and ran its loop a second ago: what the health checks see. */
export const primaryFacts: HealthFacts = {
  role: 'primary',
  state: 'running',
  holdsLock: true,
  standbyCluster: false,
  paused: false,
  noloadbalance: false,
  tags: {},
  syncStandby: false,
  msSinceLastLoop: 1000,
  ttlMs: 30_000,
  maximumLagOnFailover: 1048576,
};
