/**
 * The fence file: how the agent tells its watchdog (`watchdog-script.ts`, a process of its own) until when this
 * member may run a writable PostgreSQL. One line of text, replaced atomically (write, then rename):
 *
 *   pgha-fence 2 <agent-pid> armed <deadline>   a primary may run until <deadline>, in centiseconds of CLOCK_BOOTTIME
 *   pgha-fence 2 <agent-pid> off                no fencing (bootstrapping before the lock exists, or paused)
 *
 * CLOCK_BOOTTIME (`/proc/uptime`) is one clock for every process of the machine or container, unaffected by
 * wall-clock changes, and readable from a shell. <agent-pid> names the agent that wrote it: a watchdog whose own
 * agent is gone leaves a newer agent's file alone. Pure: no I/O here.
 */
export type FenceState = ({ readonly armed: false } | { readonly armed: true; readonly deadlineCs: number }) & {
  /** The agent that wrote it; 0 when unknown. */
  readonly agentPid: number;
};

export function encodeFence(state: FenceState): string {
  return `pgha-fence 2 ${state.agentPid} ${state.armed ? `armed ${state.deadlineCs}` : 'off'}\n`;
}

/** Parses the file as the watchdog does; anything unreadable is armed with a deadline already passed (fail safe). */
export function decodeFence(text: string): FenceState {
  const m = /^pgha-fence 2 (\d{1,10}) (?:(off)|armed (\d{1,15}))$/.exec(text.trim());
  if (!m) return { armed: true, deadlineCs: 0, agentPid: 0 };
  const agentPid = Number(m[1]);
  return m[2] ? { armed: false, agentPid } : { armed: true, deadlineCs: Number(m[3]), agentPid };
}

/** Centiseconds since boot (CLOCK_BOOTTIME) from the text of /proc/uptime, e.g. `12345.67 ...` → 1234567. */
export function uptimeCentiseconds(procUptime: string): number {
  const m = /^(\d+)\.(\d{2})\s/.exec(procUptime);
  if (!m) throw new Error(`unreadable /proc/uptime: ${JSON.stringify(procUptime.slice(0, 40))}`);
  return Number(m[1]) * 100 + Number(m[2]);
}
