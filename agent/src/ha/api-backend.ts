import type { MetricFamily } from '../metrics/agent-metrics';
import type { ApiBackend, ApiResult, FailsafeRequestBody, RestartRequest, SwitchoverRequest } from '../api/backend';
import type { HealthFacts } from '../api/health';
import { renderMetrics } from '../api/metrics';
import type { Clock } from '../clock';
import type { AgentConfig } from '../config/agent-config';
import type { FailsafeVerdict } from '../core/failsafe';
import type { LockView } from '../core/model';
import { PROMISE_HEADER } from '../loop/failsafe-client';
import type { FailsafeRequest } from '../loop/ha-loop';
import { ConflictError } from '../errors';
import { AGENT_VERSION } from '../version';
import type { ClusterObjects } from './cluster-objects';
import { failoverRequest, historyOf, leaderOptime, memberRecords, syncState } from './cluster-view';
import { mergeConfig, validateDynamicConfig } from './dynamic-config';
import { errorFields, type Logger } from '../log/logger';
import { epochSeconds, patroniJson } from './member-facts';
import { peerCandidates } from './peer-status';
import type { PostgresService } from './postgres-service';
import { clusterJson } from './cluster-json';
import { pollSwitchover, switchoverRefusal } from './switchover-request';
import { scheduledRestartJson, scheduleRefusal, unmetCondition } from '../core/scheduled-restart';
import { restartFacts } from './restart-schedule';

/** What the REST API needs from the HA loop's failsafe side. */
export interface FailsafeParticipant {
  /** Answers a failsafe leader's `POST /failsafe`. */
  grant(req: FailsafeRequest): FailsafeVerdict;
  /** This member leads on failsafe promises right now (`failsafe_mode_is_active` in `GET /patroni`). */
  active(): boolean;
}

export interface AgentApiBackendProps {
  readonly config: AgentConfig;
  readonly service: PostgresService;
  readonly store: ClusterObjects & { lock(): LockView; readonly ready: boolean; lastApiContact(): Date | undefined };
  readonly clock: Clock;
  /** This node acts as leader right now. */
  readonly leading: () => boolean;
  /** Monotonic time of the last completed loop run. */
  readonly lastLoopAt: () => number | undefined;
  /** Runs the HA loop now. */
  readonly wake: () => void;
  /** This member's part in failsafe mode (the HA loop decides). @default - every request refused, never active */
  readonly failsafe?: FailsafeParticipant;
  /** The agent's own metric families (`pgha_*`), at scrape time. @default none */
  readonly metrics?: () => MetricFamily[];
  readonly logger: Logger;
}

/** How old a snapshot `GET /patroni` may answer from: a race compares positions read within this. */
const FRESH_POSITIONS_MS = 100;

/** The agent's answers to the REST API (Patroni's bodies, codes and messages). Reads never block. */
export class AgentApiBackend implements ApiBackend {
  constructor(private readonly p: AgentApiBackendProps) {}

  failsafeTopology(): Readonly<Record<string, string>> | null {
    return this.p.service.dynamicConfig.failsafeMode ? (this.p.store.lock().failsafe ?? {}) : null;
  }

  failsafe(req: FailsafeRequestBody): ApiResult {
    const verdict = this.p.failsafe?.grant({ from: req.name, ...(req.ttlSeconds !== undefined ? { durationMs: req.ttlSeconds * 1000 } : {}) }) ?? {
      granted: false,
      status: 503,
      reason: 'this member takes no part in failsafe mode',
    };
    if (!verdict.granted) return { status: verdict.status, body: verdict.reason };
    // The promise's length from when it was made, which is after the leader's round started: the leader measures
    // its lease from the round's start, so it never counts on more than was promised. (Measuring it again here,
    // a moment later, would state less than the leader asked for and fail every round.)
    return { status: 200, body: 'Accepted', headers: { [PROMISE_HEADER]: String(Math.floor(verdict.promisedMs)) } };
  }

  private role(): 'primary' | 'replica' | 'demoted' | 'uninitialized' {
    const s = this.p.service.snapshot;
    if (s?.server) return s.server.inRecovery ? 'replica' : 'primary';
    if (s?.dataDir?.kind === 'initialized') return 'replica';
    return 'uninitialized';
  }

  private isSyncStandby(): boolean {
    return this.p.service.dynamicConfig.synchronousMode && syncState(this.p.store.object('sync')).standbys.includes(this.p.config.name);
  }

  /** The member's own timings, against which a dynamic configuration that sets only some of them is checked. */
  private ownTiming() {
    const c = this.p.config;
    return { ttl: c.ttl, loopWait: c.loopWait, retryTimeout: c.retryTimeout };
  }

  private lastContact(): number {
    const at = this.p.store.lastApiContact();
    return at ? epochSeconds(at) : 0;
  }

  statusJson(): Record<string, unknown> {
    return patroniJson({
      snap: this.p.service.snapshot,
      state: this.p.service.memberState(),
      role: this.role(),
      scope: this.p.config.scope,
      name: this.p.config.name,
      version: AGENT_VERSION,
      // 0 until the API first answered: an alert on a stale value fires from the start.
      dcsLastSeen: this.lastContact(),
      tags: this.p.config.tags,
      paused: this.p.service.dynamicConfig.pause,
      clusterUnlocked: this.p.store.lock().holder === null,
      syncStandby: this.isSyncStandby(),
      failsafeActive: this.p.failsafe?.active() ?? false,
      ...(this.p.service.restarts.current ? { scheduledRestart: scheduledRestartJson(this.p.service.restarts.current, false) } : {}),
    });
  }

  /** Peers ask this right before they race: positions at most this old are answered as they are. */
  async freshStatusJson(): Promise<Record<string, unknown>> {
    await this.p.service.ensureFresh(FRESH_POSITIONS_MS);
    return this.statusJson();
  }

  healthFacts(): HealthFacts {
    const snap = this.p.service.snapshot;
    const optime = leaderOptime(this.p.store.object('leader'));
    const s = snap?.server;
    const pos = s?.inRecovery ? (s.replayedLsn ?? s.receivedLsn) : undefined;
    const last = this.p.lastLoopAt();
    const tags = this.p.config.tags;
    return {
      role: this.role(),
      state: this.p.service.memberState(),
      holdsLock: this.p.leading(),
      standbyCluster: false,
      paused: this.p.service.dynamicConfig.pause,
      noloadbalance: tags.noloadbalance,
      tags: { nofailover: tags.nofailover, failover_priority: tags.failoverPriority, noloadbalance: tags.noloadbalance, nosync: tags.nosync },
      replicationState: s?.replicationState,
      lagBytes: optime !== undefined && pos !== undefined ? Math.max(0, Number(optime - pos)) : undefined,
      syncStandby: this.isSyncStandby(),
      msSinceLastLoop: last === undefined ? 0 : this.p.clock.monotonicMs() - last,
      ttlMs: this.p.config.ttl * 1000,
      maximumLagOnFailover: this.p.service.dynamicConfig.maximumLagOnFailover ?? this.p.config.maximumLagOnFailover,
    };
  }

  cluster(): Record<string, unknown> {
    return clusterJson({
      scope: this.p.config.scope,
      members: memberRecords(this.p.store.podObjects()),
      holder: this.p.store.lock().holder,
      optime: leaderOptime(this.p.store.object('leader')),
      syncStandbys: this.p.service.dynamicConfig.synchronousMode ? syncState(this.p.store.object('sync')).standbys : [],
      paused: this.p.service.dynamicConfig.pause,
      failover: failoverRequest(this.p.store.object('failover')),
    });
  }

  history(): readonly unknown[] {
    return historyOf(this.p.store.object('config'));
  }

  config(): Record<string, unknown> | null {
    const text = this.p.store.object('config')?.metadata.annotations?.config;
    if (text === undefined) return null;
    try {
      const v: unknown = JSON.parse(text);
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  async patchConfig(patch: Record<string, unknown>): Promise<ApiResult> {
    const obj = this.p.store.object('config');
    const current = this.config();
    if (!obj || current === null) return { status: 503, body: 'Cluster has no dynamic configuration' };
    const merged = mergeConfig(current, patch);
    const problems = validateDynamicConfig(merged, this.ownTiming());
    if (problems.length) return { status: 400, body: `invalid configuration: ${problems.join('; ')}` };
    try {
      await this.p.store.patchObject('config', { config: JSON.stringify(merged) }, obj.metadata.resourceVersion);
    } catch (err) {
      if (err instanceof ConflictError) return { status: 409, body: 'Conflict: the configuration was changed concurrently' };
      throw err;
    }
    this.p.wake();
    return { status: 200, body: merged };
  }

  async replaceConfig(config: Record<string, unknown>): Promise<ApiResult> {
    const problems = validateDynamicConfig(config, this.ownTiming());
    if (problems.length) return { status: 400, body: `invalid configuration: ${problems.join('; ')}` };
    try {
      await this.p.store.patchObject('config', { config: JSON.stringify(config) }, undefined);
    } catch (err) {
      this.p.logger.error('could not write the dynamic configuration', errorFields(err));
      return { status: 502, body: `Failed to write the configuration: ${err instanceof Error ? err.message : String(err)}` };
    }
    this.p.wake();
    return { status: 200, body: config };
  }

  async switchover(req: SwitchoverRequest): Promise<ApiResult> {
    const { store } = this.p;
    const holder = store.lock().holder;
    const paused = this.p.service.dynamicConfig.pause;
    if (paused && !req.candidate) return { status: 400, body: 'Switchover is possible only to a specific candidate in a paused state' };
    if (paused && req.scheduledAt) return { status: 400, body: "Can't schedule switchover in the paused state" };
    if (req.scheduledAt && req.scheduledAt.getTime() <= this.p.clock.wallTime().getTime())
      return { status: 422, body: 'Cannot schedule switchover in the past' };
    const existing = failoverRequest(store.object('failover'));
    if (existing?.scheduledAt) return { status: 503, body: 'There is already a switchover scheduled' };
    const members = memberRecords(store.podObjects());
    if (!req.scheduledAt) {
      const sync =
        this.p.service.dynamicConfig.synchronousMode && syncState(store.object('sync')).leader ? syncState(store.object('sync')).standbys : undefined;
      const refusal = switchoverRefusal({ req, holder, members, sync, statuses: await peerCandidates(members, holder ?? '') });
      if (refusal) return { status: 412, body: refusal };
    }
    const annotations: Record<string, string | null> = {
      leader: req.leader ?? null,
      member: req.candidate ?? null,
      scheduled_at: req.scheduledAt ? req.scheduledAt.toISOString().replace('Z', '+00:00') : null,
    };
    try {
      await store.patchObject('failover', annotations, undefined);
    } catch (err) {
      this.p.logger.error('could not write the failover key', errorFields(err));
      return { status: 503, body: 'failed to write failover key into DCS' };
    }
    this.p.wake();
    if (req.scheduledAt) return { status: 202, body: `${req.action === 'failover' ? 'Failover' : 'Switchover'} scheduled` };
    return pollSwitchover({
      store,
      action: req.endpoint ?? req.action,
      leader: holder,
      candidate: req.candidate,
      timeoutMs: 2 * Math.max(10, this.p.config.loopWait) * 1000,
    });
  }

  async cancelSwitchover(): Promise<ApiResult> {
    const req = failoverRequest(this.p.store.object('failover'));
    if (!req?.scheduledAt) return { status: 404, body: 'no switchover is scheduled' };
    try {
      await this.p.store.patchObject('failover', { leader: null, member: null, scheduled_at: null }, undefined);
    } catch (err) {
      this.p.logger.error('could not reset the scheduled switchover', errorFields(err));
      return { status: 409, body: 'Could not reset the scheduled switchover' };
    }
    return { status: 200, body: 'scheduled switchover deleted' };
  }

  async restart(req: RestartRequest): Promise<ApiResult> {
    const { service } = this.p;
    const conditions = {
      ...(req.restartPending !== undefined ? { restartPending: req.restartPending } : {}),
      ...(req.role ? { role: req.role } : {}),
      ...(req.postgresVersion !== undefined ? { postgresVersion: req.postgresVersion } : {}),
    };
    if (req.scheduledAt) {
      const atMs = req.scheduledAt.getTime();
      const refusal = scheduleRefusal({
        atMs,
        nowMs: this.p.clock.wallTime().getTime(),
        paused: service.dynamicConfig.pause,
        pending: !!service.restarts.current,
      });
      if (refusal) return { status: refusal.status, body: refusal.message };
      const facts = restartFacts(service.snapshot);
      service.restarts.set({
        ...conditions,
        atMs,
        ...(req.timeoutSeconds !== undefined ? { timeoutSeconds: req.timeoutSeconds } : {}),
        ...(facts.postmasterStartTime !== undefined ? { postmasterStartTime: facts.postmasterStartTime } : {}),
      });
      this.p.logger.info('restart scheduled', { schedule: req.scheduledAt.toISOString(), ...conditions });
      // The loop publishes it in the Pod status and arms the timer for its time.
      this.p.wake();
      return { status: 202, body: 'Restart scheduled' };
    }
    const unmet = unmetCondition(conditions, restartFacts(service.snapshot));
    if (unmet) return { status: 503, body: `restart conditions are not satisfied: ${unmet}` };
    const ok = await service.restartPostgres((req.timeoutSeconds ?? this.p.config.shutdownTimeout) * 1000);
    return ok ? { status: 200, body: 'restarted successfully' } : { status: 503, body: 'restart failed' };
  }

  cancelRestart(): Promise<ApiResult> {
    if (!this.p.service.restarts.clear()) return Promise.resolve({ status: 404, body: 'no restarts are scheduled' });
    this.p.logger.info('scheduled restart deleted', {});
    this.p.wake();
    return Promise.resolve({ status: 200, body: 'scheduled restart deleted' });
  }

  reload(): Promise<ApiResult> {
    this.p.service.requestReload();
    this.p.wake();
    return Promise.resolve({ status: 202, body: 'reload scheduled' });
  }

  async reinitialize(_req: { readonly force: boolean; readonly fromLeader: boolean }): Promise<ApiResult> {
    if (this.p.leading()) return { status: 503, body: 'I am the leader, can not reinitialize' };
    if (this.p.store.lock().holder === null) return { status: 503, body: 'Cluster has no leader, can not reinitialize' };
    const started = await this.p.service.reinitialize();
    return started ? { status: 200, body: 'reinitialize started' } : { status: 503, body: 'reinitialize already in progress' };
  }

  metrics(): string {
    return renderMetrics({ scope: this.p.config.scope, name: this.p.config.name, status: this.statusJson(), families: this.p.metrics?.() ?? [] });
  }
}
