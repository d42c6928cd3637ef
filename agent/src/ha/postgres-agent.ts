import type { MetricFamily } from '../metrics/agent-metrics';
import type { FailsafeParticipant } from './api-backend';
import { Callbacks } from './callbacks';
import { dirname, join } from 'node:path';
import { ApiServer } from '../api/http-server';
import type { Clock } from '../clock';
import type { AgentConfig } from '../config/agent-config';
import type { LockView } from '../core/model';
import type { Logger } from '../log/logger';
import { LocalPostgres } from '../postgres/local-postgres';
import type { RunAs } from '../postgres/run-as';
import { AgentApiBackend } from './api-backend';
import type { ClusterObjects } from './cluster-objects';
import { PostgresService } from './postgres-service';
import { FenceFile } from '../fence/fence-file';
import { FenceWatchdog } from '../fence/watchdog-process';

/**
 * Test hook: Postgres dies with the agent (the kernel kills it when the agent exits), so a test that SIGKILLs an
 * agent kills its Postgres too and leaves nothing behind. Production never sets it: there Postgres outlives an
 * agent crash and the restarted agent finds it.
 */
export const KILL_POSTGRES_WITH_AGENT_ENV = 'PGHA_TEST_KILL_POSTGRES_WITH_AGENT';

function parseRunAs(value: string | undefined): RunAs | undefined {
  if (!value) return undefined;
  const [uid, gid] = value.split(':').map(Number);
  return { uid: uid!, gid: gid! };
}

export interface PostgresAgentDeps {
  readonly config: AgentConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: ClusterObjects & { lock(): LockView; readonly ready: boolean; lastApiContact(): Date | undefined };
  readonly leading: () => boolean;
  readonly lastLoopAt: () => number | undefined;
  readonly wake: () => void;
  readonly failsafe?: FailsafeParticipant;
  /** The agent's own metric families, at scrape time. */
  readonly metrics?: () => MetricFamily[];
}

/** The PostgreSQL service and the REST API around it, as the composition root wires them. */
export function postgresAgent(d: PostgresAgentDeps): { service: PostgresService; api: ApiServer } {
  const { config } = d;
  const runDir = config.postgresql.runDir ?? join(dirname(config.postgresql.dataDir), 'pgha-run');
  const pg = new LocalPostgres({
    postgresql: config.postgresql,
    memberName: config.name,
    runDir,
    logger: d.logger.child('postgres'),
    runAs: parseRunAs(config.postgresql.runAs),
    killWithAgent: d.env[KILL_POSTGRES_WITH_AGENT_ENV] === '1',
  });
  // The fence file lives beside the socket, outside the data directory (which a re-clone empties).
  const fencePath = join(runDir, 'fence');
  const fence = new FenceFile({ path: fencePath, monotonicMs: () => d.clock.monotonicMs() });
  const watchdog = new FenceWatchdog({ fencePath, dataDir: config.postgresql.dataDir, logger: d.logger.child('fence') });
  const service = new PostgresService({
    pg,
    fence,
    watchdog,
    store: d.store,
    config,
    clock: d.clock,
    logger: d.logger.child('ha-postgres'),
    wake: d.wake,
    leadingNow: d.leading,
    callbacks: new Callbacks(config.postgresql.callbacks, config.scope, d.logger.child('callbacks')),
  });
  const backend = new AgentApiBackend({
    config,
    service,
    store: d.store,
    clock: d.clock,
    leading: d.leading,
    lastLoopAt: d.lastLoopAt,
    wake: d.wake,
    ...(d.failsafe ? { failsafe: d.failsafe } : {}),
    ...(d.metrics ? { metrics: d.metrics } : {}),
    logger: d.logger.child('restapi'),
  });
  const api = new ApiServer({
    listen: config.restapi.listen,
    backend,
    logger: d.logger.child('restapi'),
    authentication: config.restapi.authentication,
    certfile: config.restapi.certfile,
    keyfile: config.restapi.keyfile,
  });
  return { service, api };
}
