/**
 * Runs the cluster commands. Reads go to Kubernetes (like patronictl: no member has to be up to `list`); actions
 * go to the leader's REST API, and a switchover or failover that the API cannot take is written to
 * `<scope>-failover` instead, where the agents pick it up.
 */
import { readFileSync } from 'node:fs';
import { KubeClient } from '../kube/kube-client';
import { KubeApiError } from '../kube/kube-error';
import { AGENT_VERSION } from '../version';
import { ClusterClient, ConfigConflictError, UnreachableError } from './cluster-client';
import { type ClusterView, clusterView } from './cluster-view';
import { buildPatch, describeChanges, mergePatch } from './config-edit';
import { type CtlContext, type CtlIo, emit, fail } from './ctl-context';
import type { CtlCommand } from './ctl-args';
import { resolveTarget } from './ctl-target';
import { editInteractively } from './editor';
import { ExitCode, exitCodeForStatus } from './exit-codes';
import { formatConfig, formatHistory, formatList, historyJson, listJson } from './format';
import { callMember } from './member-api';
import { runSwitchover } from './switchover';
import { UsageError } from './usage-error';

/** How long a single REST call may take for actions that answer at once (restart, reinit, config). */
const REST_TIMEOUT_MS = 10_000;

async function list(ctx: CtlContext): Promise<ExitCode> {
  const view = clusterView(await ctx.cluster.read());
  emit(ctx, listJson(view), formatList(view));
  return ExitCode.ok;
}

async function history(ctx: CtlContext): Promise<ExitCode> {
  const view = clusterView(await ctx.cluster.read());
  emit(ctx, historyJson(view.history), formatHistory(view.history));
  return ExitCode.ok;
}

async function showConfig(ctx: CtlContext): Promise<ExitCode> {
  const view = clusterView(await ctx.cluster.read());
  if (!view.config) return fail(ctx, ExitCode.refused, `cluster ${view.scope} in namespace ${ctx.target.namespace} has no dynamic configuration`);
  emit(ctx, view.config, formatConfig(view.config));
  return ExitCode.ok;
}

async function editConfig(ctx: CtlContext): Promise<ExitCode> {
  const { cmd } = ctx;
  const view = clusterView(await ctx.cluster.read());
  if (!view.config && !view.configVersion)
    return fail(ctx, ExitCode.refused, `cluster ${view.scope} in namespace ${ctx.target.namespace} has no dynamic configuration`);
  const before = view.config ?? {};
  let after: Record<string, unknown>;
  if (cmd.sets.length || cmd.pgParams.length || cmd.applyFile !== undefined) {
    const applied = cmd.applyFile === undefined ? undefined : cmd.applyFile === '-' ? ctx.io.readStdin() : readApplyFile(cmd.applyFile);
    after = mergePatch(before, buildPatch(cmd.sets, cmd.pgParams, applied));
  } else {
    const edited = editInteractively(before, ctx.io.env);
    if (edited === undefined) return fail(ctx, ExitCode.usage, 'no change given: use --set KEY=VALUE, -p PARAM=VALUE, --apply FILE, or set $EDITOR');
    after = edited;
  }
  const changes = describeChanges(before, after);
  if (changes.length === 0) {
    emit(ctx, { ok: true, changed: [] }, 'Not changed');
    return ExitCode.ok;
  }
  try {
    await ctx.cluster.writeConfig(after, view.configVersion);
  } catch (err) {
    if (err instanceof ConfigConflictError) return fail(ctx, ExitCode.refused, err.message);
    throw err;
  }
  emit(ctx, { ok: true, changed: changes, config: after }, ['Configuration changed:', ...changes.map((c) => `  ${c}`)].join('\n'));
  return ExitCode.ok;
}

function readApplyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--apply ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** Members to ask first for a cluster-wide change: the leader, then the others. */
function apiUrlsLeaderFirst(view: ClusterView): string[] {
  const sorted = [...view.members].sort((a, b) => Number(b.name === view.leader) - Number(a.name === view.leader));
  return sorted.flatMap((m) => (m.apiUrl ? [m.apiUrl] : []));
}

async function pauseResume(ctx: CtlContext, pause: boolean): Promise<ExitCode> {
  const view = clusterView(await ctx.cluster.read());
  if (!view.config && !view.configVersion) return fail(ctx, ExitCode.refused, `cluster ${view.scope} has no dynamic configuration`);
  if (view.paused === pause) return fail(ctx, ExitCode.refused, `Cluster is ${pause ? 'already paused' : 'not paused'}`);
  // A config PATCH answers at once; a member that has not answered in a few seconds is treated as unreachable.
  const timeoutMs = (ctx.cmd.timeoutSeconds ?? 5) * 1000;
  const [first, ...rest] = apiUrlsLeaderFirst(view);
  // The leader first, as patronictl does; if it does not answer, every other member at once (any applies it).
  for (const urls of [first ? [first] : [], rest]) {
    const answers = await Promise.all(urls.map(async (url) => ({ url, answer: await callMember(url, 'PATCH', 'config', { pause }, timeoutMs, ctx.api) })));
    for (const { url, answer } of answers) if (!answer.reachable) ctx.io.stderr(`${url}: ${answer.error}\n`);
    const got = answers.find((a) => a.answer.reachable);
    if (!got) continue;
    if (got.answer.status >= 200 && got.answer.status < 300) {
      emit(ctx, { ok: true, pause, via: 'rest' }, pause ? 'Success: cluster management is paused' : 'Success: cluster management is resumed');
      return ExitCode.ok;
    }
    return fail(ctx, exitCodeForStatus(got.answer.status), `${got.url} answered ${got.answer.status}: ${got.answer.body.trim()}`);
  }
  // No member API answered: make the same change the way edit-config does.
  ctx.io.stderr('no member REST API answered; writing the configuration object directly\n');
  try {
    await ctx.cluster.writeConfig(mergePatch(view.config ?? {}, { pause: pause ? true : null }), view.configVersion);
  } catch (err) {
    if (err instanceof ConfigConflictError) return fail(ctx, ExitCode.refused, err.message);
    throw err;
  }
  emit(ctx, { ok: true, pause, via: 'config-object' }, pause ? 'Success: cluster management is paused' : 'Success: cluster management is resumed');
  return ExitCode.ok;
}

async function restart(ctx: CtlContext): Promise<ExitCode> {
  const { cmd } = ctx;
  const view = clusterView(await ctx.cluster.read());
  const unknown = cmd.members.filter((n) => !view.members.some((m) => m.name === n));
  if (unknown.length)
    return fail(ctx, ExitCode.refused, `${unknown.join(', ')} ${unknown.length > 1 ? 'are not members' : 'is not a member'} of cluster ${view.scope}`);
  const chosen = view.members.filter((m) => cmd.members.length === 0 || cmd.members.includes(m.name));
  const body: Record<string, unknown> = {};
  if (cmd.pending) body.restart_pending = true;
  if (cmd.role) body.role = cmd.role;
  if (cmd.scheduled) body.schedule = cmd.scheduled;
  return fanOut(ctx, chosen, 'restart', body, 'restart');
}

async function reinit(ctx: CtlContext): Promise<ExitCode> {
  const view = clusterView(await ctx.cluster.read());
  const name = ctx.cmd.members[0]!;
  const member = view.members.find((m) => m.name === name);
  if (!member) return fail(ctx, ExitCode.refused, `${name} is not a member of cluster ${view.scope}`);
  if (name === view.leader) return fail(ctx, ExitCode.refused, `${name} is the leader; only a replica can be reinitialized`);
  return fanOut(ctx, [member], 'reinitialize', { force: ctx.cmd.force }, 'reinitialize');
}

/** Sends one request to each member; the exit code is the worst outcome (unreachable over refused over ok). */
async function fanOut(ctx: CtlContext, members: ClusterView['members'], endpoint: string, body: unknown, verb: string): Promise<ExitCode> {
  const results = await Promise.all(
    members.map(async (m) => {
      if (!m.apiUrl) return { member: m.name, status: 0, message: 'publishes no api_url', code: ExitCode.unreachable as ExitCode };
      const a = await callMember(m.apiUrl, 'POST', endpoint, body, REST_TIMEOUT_MS, ctx.api);
      if (!a.reachable) return { member: m.name, status: 0, message: a.error ?? 'not reachable', code: ExitCode.unreachable as ExitCode };
      return { member: m.name, status: a.status, message: a.body.trim(), code: exitCodeForStatus(a.status) };
    }),
  );
  const lines = results.map(
    (r) => `${r.code === ExitCode.ok ? 'Success' : 'Failed'}: ${verb} on member ${r.member}${r.status ? ` (${r.status})` : ''}: ${r.message}`,
  );
  emit(ctx, { ok: results.every((r) => r.code === ExitCode.ok), results }, lines.join('\n'));
  if (results.some((r) => r.code === ExitCode.unreachable)) return ExitCode.unreachable;
  if (results.some((r) => r.code === ExitCode.refused)) return ExitCode.refused;
  return ExitCode.ok;
}

const HANDLERS: Readonly<Record<CtlCommand['name'], (ctx: CtlContext) => Promise<ExitCode>>> = {
  list,
  history,
  'show-config': showConfig,
  'edit-config': editConfig,
  switchover: runSwitchover,
  failover: runSwitchover,
  pause: (ctx) => pauseResume(ctx, true),
  resume: (ctx) => pauseResume(ctx, false),
  restart,
  reinit,
};

export type { CtlIo };

/** Runs one cluster command and returns its exit code (see exit-codes.ts). */
export async function runCtl(cmd: CtlCommand, io: CtlIo): Promise<ExitCode> {
  let client: KubeClient | undefined;
  const partial = { cmd, io };
  try {
    const target = await resolveTarget(cmd.target, io.env);
    client = new KubeClient(target.connection, { userAgent: `pgha-ctl/${AGENT_VERSION}` });
    const cacert = target.cacert ? readFileSync(target.cacert, 'utf8') : undefined;
    const ctx: CtlContext = { cmd, io, target, cluster: new ClusterClient(client, target), api: { auth: target.auth, insecure: target.insecure, ca: cacert } };
    return await HANDLERS[cmd.name](ctx);
  } catch (err) {
    if (err instanceof UsageError) return fail(partial, ExitCode.usage, err.message);
    if (err instanceof UnreachableError) return fail(partial, ExitCode.unreachable, err.message);
    if (err instanceof KubeApiError) return fail(partial, ExitCode.refused, err.message);
    if (err instanceof Error && err.name === 'ConfigError') return fail(partial, ExitCode.usage, err.message);
    return fail(partial, ExitCode.failed, err instanceof Error ? err.message : String(err));
  } finally {
    client?.close();
  }
}
