#!/usr/bin/env node
// First: runtime facts that dependencies probe for when they load (see node-runtime.ts).
import { AgentMetrics } from './metrics/agent-metrics';
import './node-runtime';
import { readFileSync } from 'node:fs';
import { type AgentCommand, commandUsage, parseCommand, USAGE, UsageError } from './cli/dispatch';
import { CTL_COMMANDS } from './cli/ctl-args';
import { runCtl } from './cli/ctl-main';
import { type Clock, systemClock } from './clock';
import { type AgentConfig, buildAgentConfig } from './config/agent-config';
import { ConfigErrors, type FlatConfig, loadFlatConfigFile } from './config/load-config';
import { ConfigError } from './errors';
import { ApiServerPool } from './kube/api-server-pool';
import { KubeClient } from './kube/kube-client';
import { inClusterConnection, type KubeConnection, kubeConfigConnection } from './kube/kube-connection';
import { errorFields, jsonLogger, logLevelFromEnv, type Logger } from './log/logger';
import type { ApiServer } from './api/http-server';
import { postgresAgent } from './ha/postgres-agent';
import type { PostgresService } from './ha/postgres-service';
import { AgentOnlyService } from './loop/agent-only-service';
import { ownApiUrl } from './ha/failsafe-topology';
import { FailsafeClient } from './loop/failsafe-client';
import { HaLoop } from './loop/ha-loop';
import { KubeStore } from './store/kube-store';
import { AGENT_VERSION } from './version';

/**
 * The composition root: the only place that builds and connects components. Everything else receives what it
 * needs through its constructor.
 */

/**
 * Test hook: shifts this process's wall clock (the timestamps it writes into the lock) by this many milliseconds.
 * Integration tests use it to prove that clock skew changes nothing; production never sets it.
 */
const WALL_CLOCK_OFFSET_ENV = 'PGHA_TEST_WALL_CLOCK_OFFSET_MS';

/**
 * Test hook: the agent manages no PostgreSQL and serves no REST API, only the lock (the leader-election tests run
 * many such agents side by side). Production never sets it.
 */
const LOCK_ONLY_ENV = 'PGHA_TEST_LOCK_ONLY';

function connectionFor(config: AgentConfig, env: NodeJS.ProcessEnv): KubeConnection {
  const k = config.kubernetes;
  return k.kubeconfig ? kubeConfigConnection(k.kubeconfig, k.context) : inClusterConnection(env);
}

function wireAgent(
  config: AgentConfig,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): { loop: HaLoop; client: KubeClient; api?: ApiServer; prepare: () => Promise<void> } {
  const offset = Number(env[WALL_CLOCK_OFFSET_ENV] ?? 0);
  const clock: Clock = systemClock(Number.isFinite(offset) ? offset : 0);
  if (offset) logger.warn('wall clock offset applied (test hook)', { offsetMs: offset });
  const metrics = new AgentMetrics();
  const client = new KubeClient(connectionFor(config, env), {
    userAgent: `pgha/${AGENT_VERSION}`,
    observer: (method, _path, status, durationMs) => metrics.kubeRequest(method, status, durationMs),
  });
  const k = config.kubernetes;
  const loopWaitMs = config.loopWait * 1000;
  const retryTimeoutMs = config.retryTimeout * 1000;
  const pool = new ApiServerPool({
    client,
    logger: logger.child('api-servers'),
    enabled: k.bypassApiService,
    // Once per loop run (Patroni refreshes when the list is older than loop_wait - 0.5 s).
    refreshEveryMs: Math.max(500, loopWaitMs - 500),
    requestTimeoutMs: Math.max(1000, retryTimeoutMs / 2),
  });
  // The loop, the store and the service call each other (wake-ups, status fields); they are created right after.
  let loop: HaLoop | undefined;
  let pgService: PostgresService | undefined;
  const store = new KubeStore({
    client,
    pool,
    clock,
    logger: logger.child('store'),
    namespace: config.namespace,
    scope: config.scope,
    name: config.name,
    ttlSeconds: config.ttl,
    ttl: () => pgService?.timing().ttl ?? config.ttl,
    retryTimeoutMs,
    useEndpoints: k.useEndpoints,
    scopeLabel: k.scopeLabel,
    labels: k.labels,
    podIp: k.podIp,
    ports: k.ports,
    retriableHttpCodes: k.retriableHttpCodes,
    status: {
      connUrl: `postgres://${config.postgresql.connectAddress}/postgres`,
      apiUrl: ownApiUrl(config),
      version: AGENT_VERSION,
      roleLabel: k.roleLabel,
      leaderLabelValue: k.leaderLabelValue,
      followerLabelValue: k.followerLabelValue,
      tmpRoleLabel: k.tmpRoleLabel,
      extra: () => pgService?.statusExtra() ?? {},
    },
    onLockChange: () => loop?.wake(),
    onReady: () => loop?.wake(),
    lockAnnotations: () => pgService?.lockAnnotations() ?? {},
    onClusterObjectChange: () => loop?.wake(),
  });
  let api: ApiServer | undefined;
  if (env[LOCK_ONLY_ENV] !== '1') {
    const parts = postgresAgent({
      config,
      env,
      clock,
      logger,
      store,
      leading: () => loop?.leading ?? false,
      lastLoopAt: () => loop?.lastRunCompletedAt,
      wake: () => loop?.wake(),
      failsafe: {
        grant: (req) => loop?.grantFailsafe(req) ?? { granted: false, status: 503, reason: 'the agent is starting' },
        active: () => loop?.failsafeActive ?? false,
      },
      metrics: () => metrics.families({ leaseHeadroomMs: loop?.leaseHeadroomMs ?? null }),
    });
    pgService = parts.service;
    api = parts.api;
  }
  const failsafeClient = new FailsafeClient({
    self: { name: config.name, connUrl: `postgres://${config.postgresql.connectAddress}/postgres`, apiUrl: ownApiUrl(config) },
    ...(config.restapi.authentication ? { auth: config.restapi.authentication } : {}),
  });
  loop = new HaLoop({
    store,
    service: pgService ?? new AgentOnlyService(),
    timing: () => {
      const t = pgService?.timing() ?? { ttl: config.ttl, loopWait: config.loopWait, retryTimeout: config.retryTimeout };
      const failsafeMode = pgService?.dynamicConfig.failsafeMode ?? false;
      return { core: { ttlMs: t.ttl * 1000, loopWaitMs: t.loopWait * 1000, failsafeMode }, retryTimeoutMs: t.retryTimeout * 1000 };
    },
    clock,
    logger: logger.child('ha'),
    name: config.name,
    nofailover: config.tags.nofailover || config.tags.failoverPriority <= 0,
    core: { ttlMs: config.ttl * 1000, loopWaitMs },
    retryTimeoutMs,
    onLeaseDeadline: (deadline) => pgService?.leaseChanged(deadline),
    onRun: (ms) => metrics.loopRun(ms),
    askFailsafe: (peers, ttlMs, timeoutMs) => failsafeClient.ask(peers, ttlMs, timeoutMs),
    onTakeover: (previous) => {
      // Off the critical path: the new leader's own renew and promotion never wait for it.
      void store
        .unlabelFormerLeader(previous, retryTimeoutMs)
        .then((outcome) => logger.child('ha').info("former leader's role label", { previous, outcome }))
        .catch((err: unknown) => logger.child('ha').warn('could not take the role label off the former leader', { previous, ...errorFields(err) }));
    },
  });
  return { loop, client, api, prepare: () => pgService?.prepare() ?? Promise.resolve() };
}

/** `pgha agent --validate-config`: every problem and every key without effect, one line each; 0 when it would start. */
function validateConfig(cmd: AgentCommand, env: NodeJS.ProcessEnv, out: NodeJS.WritableStream): number {
  try {
    const flat = loadFlatConfigFile(cmd.configFile, env);
    buildAgentConfig(flat);
    for (const w of flat.warnings) out.write(`warning: ${w.key}: no effect: ${w.why}\n`);
    out.write(`${cmd.configFile ?? 'the environment'}: valid\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const e of err instanceof ConfigErrors ? err.errors : [err]) out.write(`error: ${e.message.replace(/^invalid configuration: /, '')}\n`);
    return 1;
  }
}

async function runAgent(cmd: AgentCommand, env: NodeJS.ProcessEnv, logger: Logger): Promise<number> {
  if (cmd.validateOnly) return validateConfig(cmd, env, process.stdout);
  let config: AgentConfig;
  let warnings: FlatConfig['warnings'];
  try {
    const flat = loadFlatConfigFile(cmd.configFile, env);
    warnings = flat.warnings;
    config = buildAgentConfig(flat);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const e of err instanceof ConfigErrors ? err.errors : [err])
        logger.error('invalid configuration', { key: e.key, value: e.value, allowed: e.allowed });
      return 2;
    }
    throw err;
  }
  const log = logger.child('agent', { scope: config.scope, member: config.name });
  for (const w of warnings) log.warn('configuration key has no effect', { key: w.key, why: w.why });
  const { loop, client, api, prepare } = wireAgent(config, env, log);
  // Signals are handled from before the start, so a SIGTERM during start still releases what was taken.
  let started: Promise<void> = Promise.resolve();
  const finished = new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { signal });
      // The service gets shutdown_timeout to stop and the lock release one retry_timeout more; past that we leave
      // the lock to expire rather than hang.
      const deadline = setTimeout(
        () => {
          log.error('shutdown deadline exceeded; exiting without release', {});
          loop.abandon();
          resolve(1);
        },
        (config.shutdownTimeout + config.retryTimeout) * 1000,
      );
      started
        .then(() => loop.stop())
        .then(
          () => resolve(0),
          (err: unknown) => {
            log.error('shutdown failed', errorFields(err));
            resolve(1);
          },
        )
        .finally(() => {
          clearTimeout(deadline);
          client.close();
          void api?.stop();
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  // A postgres left running by a previous agent is stopped before anything else and the fence is set up; then the
  // REST API comes up (other members ask it before they race, and probes ask it from the start), then the loop.
  started = prepare()
    .then(() => (api ? api.start() : Promise.resolve()))
    .then(() => loop.start());
  await started;
  log.info('agent started', {
    version: AGENT_VERSION,
    namespace: config.namespace,
    useEndpoints: config.kubernetes.useEndpoints,
    ttl: config.ttl,
    loopWait: config.loopWait,
  });
  return finished;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let logger: Logger;
  try {
    logger = jsonLogger({ level: logLevelFromEnv(env) });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  try {
    const cmd = parseCommand(argv);
    if (cmd.command === 'help') {
      if (cmd.topic !== undefined && cmd.topic !== 'agent' && !(CTL_COMMANDS as readonly string[]).includes(cmd.topic)) {
        throw new UsageError(`no help for ${JSON.stringify(cmd.topic)}; commands: agent, ${CTL_COMMANDS.join(', ')}`);
      }
      process.stdout.write(`${cmd.topic ? commandUsage(cmd.topic) : USAGE}\n`);
      return 0;
    }
    if (cmd.command === 'version') {
      process.stdout.write(`pgha ${AGENT_VERSION}\n`);
      return 0;
    }
    if (cmd.command === 'ctl')
      return await runCtl(cmd, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
        env,
        readStdin: () => readFileSync(0, 'utf8'),
      });
    return await runAgent(cmd, env, logger);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      logger.error('invalid configuration', { key: err.key, value: err.value, allowed: err.allowed });
      return 2;
    }
    logger.error('agent failed', errorFields(err));
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    // Let stdout drain before exiting.
    process.stdout.write('', () => process.exit(code));
  });
}
