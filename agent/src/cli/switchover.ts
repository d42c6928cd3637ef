/**
 * `pgha switchover` and `pgha failover`. Checks what can be checked from the objects (a leader exists, the
 * candidate is a member), POSTs to the leader's REST API (the candidate's when there is no leader) and shows the
 * lock changing hands while it waits. If no API answers, it writes `<scope>-failover` as patronictl does and waits
 * for the lock to move.
 */
import { clusterView } from './cluster-view';
import { type CtlContext, emit, fail } from './ctl-context';
import { ExitCode, exitCodeForStatus } from './exit-codes';
import { callMember } from './member-api';
import { sleep } from '../clock';

/** Patroni's own REST handler waits up to 2·max(10, loop_wait) s; we allow a little more by default. */
const DEFAULT_TIMEOUT_S = 60;
/** How often the lock is read to show progress and to see the hand-over when writing the failover key. */
const POLL_MS = 200;

/** Polls the lock and reports each change of holder on stderr until stopped; returns the last holder seen. */
function watchLock(ctx: CtlContext, startedAt: number, initial: string | undefined) {
  let holder = initial;
  let stopped = false;
  const report = (now: string | undefined) => {
    if (now === holder) return;
    holder = now;
    ctx.io.stderr(`  +${((performance.now() - startedAt) / 1000).toFixed(1)}s  ${now ? `lock held by ${now}` : 'lock released'}\n`);
  };
  const done = (async () => {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() sets it while the loop awaits
    while (!stopped) {
      try {
        report(await ctx.cluster.lockHolder());
      } catch {
        // A failed read only delays the progress line; the result comes from the REST answer or the next read.
      }
      await sleep(POLL_MS);
    }
  })();
  return {
    /** Reports a holder seen elsewhere (a hand-over faster than one poll still shows as a progress line). */
    report,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

export async function runSwitchover(ctx: CtlContext): Promise<ExitCode> {
  const { cmd } = ctx;
  const isFailover = cmd.name === 'failover';
  const view = clusterView(await ctx.cluster.read());
  const leader = view.leader;
  const names = view.members.map((m) => m.name);
  if (!isFailover && !leader) return fail(ctx, ExitCode.refused, `cluster ${view.scope} has no leader; use pgha failover --candidate NAME`);
  if (cmd.leader && cmd.leader !== leader) return fail(ctx, ExitCode.refused, `${cmd.leader} is not the leader${leader ? ` (the leader is ${leader})` : ''}`);
  const candidate = cmd.candidate;
  if (candidate !== undefined && !names.includes(candidate)) return fail(ctx, ExitCode.refused, `${candidate} is not a member of cluster ${view.scope}`);
  if (candidate !== undefined && candidate === leader) return fail(ctx, ExitCode.refused, `${candidate} is already the leader`);
  if (!names.some((n) => n !== leader)) return fail(ctx, ExitCode.refused, 'there is no other member to switch over to');
  if (isFailover && cmd.scheduled) return fail(ctx, ExitCode.usage, 'a failover cannot be scheduled; use switchover');

  const via = view.members.find((m) => m.name === (leader ?? candidate));
  const body: Record<string, unknown> = isFailover
    ? { candidate, ...(cmd.leader ? { leader: cmd.leader } : {}) }
    : { leader, ...(candidate ? { candidate } : {}), ...(cmd.scheduled ? { scheduled_at: cmd.scheduled } : {}) };
  const timeoutMs = (cmd.timeoutSeconds ?? DEFAULT_TIMEOUT_S) * 1000;
  const action = isFailover ? 'Failing over' : 'Switching over';
  ctx.io.stderr(`${action} from ${leader ?? '(no leader)'} to ${candidate ?? 'the healthiest replica'}${cmd.scheduled ? ` at ${cmd.scheduled}` : ''}\n`);
  const startedAt = performance.now();
  const watcher = watchLock(ctx, startedAt, leader);
  try {
    const answer = via?.apiUrl
      ? await callMember(via.apiUrl, 'POST', isFailover ? 'failover' : 'switchover', body, timeoutMs, ctx.api)
      : { reachable: false, status: 0, body: '', error: `${leader ?? candidate} publishes no api_url` };
    if (answer.reachable) {
      const message = answer.body.trim();
      if (answer.status === 202) {
        emit(ctx, { ok: true, result: 'scheduled', from: leader ?? null, to: candidate ?? null, message }, message || 'Switchover scheduled');
        return ExitCode.ok;
      }
      if (answer.status < 200 || answer.status >= 300) return fail(ctx, exitCodeForStatus(answer.status), `${via!.name} answered ${answer.status}: ${message}`);
      // Done per the API; show the holder it ended with (a short wait covers a watcher that has not polled yet).
      const newLeader = await waitForNewHolder(ctx, leader, candidate, Math.min(timeoutMs, 5000));
      await watcher.stop();
      if (newLeader) watcher.report(newLeader);
      return finish(ctx, isFailover, leader, newLeader, startedAt, 'rest', message);
    }
    ctx.io.stderr(`  ${via?.name ?? 'member'} REST API not reachable (${answer.error}); writing ${ctx.cluster.layout.failover} instead\n`);
    await ctx.cluster.writeFailover({ leader: isFailover ? cmd.leader : leader, member: candidate, scheduledAt: cmd.scheduled });
    if (cmd.scheduled) {
      emit(
        ctx,
        { ok: true, result: 'scheduled', from: leader ?? null, to: candidate ?? null, via: 'failover-object' },
        `Switchover scheduled at ${cmd.scheduled}`,
      );
      return ExitCode.ok;
    }
    const remaining = Math.max(0, timeoutMs - (performance.now() - startedAt));
    const newLeader = await waitForNewHolder(ctx, leader, candidate, remaining);
    await watcher.stop();
    if (newLeader) watcher.report(newLeader);
    if (!newLeader)
      return fail(
        ctx,
        ExitCode.unreachable,
        `the lock did not move within ${cmd.timeoutSeconds ?? DEFAULT_TIMEOUT_S} s; ${ctx.cluster.layout.failover} stays set for the agents to act on`,
      );
    return finish(ctx, isFailover, leader, newLeader, startedAt, 'failover-object');
  } finally {
    await watcher.stop();
  }
}

/** Waits until someone other than `oldLeader` (the candidate, if one was named) holds the lock. */
async function waitForNewHolder(ctx: CtlContext, oldLeader: string | undefined, candidate: string | undefined, timeoutMs: number): Promise<string | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const holder = await ctx.cluster.lockHolder().catch(() => undefined);
    if (holder && holder !== oldLeader && (!candidate || holder === candidate)) return holder;
    if (performance.now() >= deadline) return undefined;
    await sleep(POLL_MS);
  }
}

function finish(
  ctx: CtlContext,
  isFailover: boolean,
  from: string | undefined,
  to: string | undefined,
  startedAt: number,
  via: string,
  message?: string,
): ExitCode {
  const seconds = (performance.now() - startedAt) / 1000;
  const text = message || (to ? `Successfully ${isFailover ? 'failed over' : 'switched over'} to "${to}"` : 'Done');
  emit(
    ctx,
    {
      ok: true,
      result: isFailover ? 'failed_over' : 'switched_over',
      from: from ?? null,
      to: to ?? null,
      via,
      seconds: Number(seconds.toFixed(3)),
      message: text,
    },
    `${text} (${seconds.toFixed(1)} s)`,
  );
  return ExitCode.ok;
}
