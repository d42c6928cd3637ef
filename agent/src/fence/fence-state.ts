/**
 * The fence file: how the agent tells its watchdog (`watchdog-main.ts`, a process of its own) until when this
 * member may run a writable PostgreSQL. One line of text, replaced atomically (write, then rename):
 *
 *   pgha-fence 1 <agent-pid> armed <deadline>   a primary may run until <deadline>, in ns of CLOCK_MONOTONIC
 *   pgha-fence 1 <agent-pid> off                no fencing (bootstrapping before the lock exists, or paused)
 *
 * <agent-pid> names the agent that wrote it: a watchdog whose own agent is gone leaves a newer agent's file alone.
 *
 * CLOCK_MONOTONIC (`process.hrtime`) is one clock for every process of the machine or container, unaffected by
 * wall-clock changes. Pure: no I/O here.
 */
export type FenceState = ({ readonly armed: false } | { readonly armed: true; readonly deadlineNs: bigint }) & {
  /** The agent that wrote it; 0 when unknown. */
  readonly agentPid: number;
};

export function encodeFence(state: FenceState): string {
  return `pgha-fence 1 ${state.agentPid} ${state.armed ? `armed ${state.deadlineNs}` : 'off'}\n`;
}

/** Parses the file; anything unreadable is treated as armed with a deadline already passed (fail safe). */
export function decodeFence(text: string): FenceState {
  const m = /^pgha-fence 1 (\d{1,10}) (?:(off)|armed (\d{1,30}))$/.exec(text.trim());
  if (!m) return { armed: true, deadlineNs: 0n, agentPid: 0 };
  const agentPid = Number(m[1]);
  return m[2] ? { armed: false, agentPid } : { armed: true, deadlineNs: BigInt(m[3]!), agentPid };
}

/** Whether a primary running now must be stopped. */
export function fenceExpired(state: FenceState, nowNs: bigint): boolean {
  return state.armed && nowNs >= state.deadlineNs;
}
