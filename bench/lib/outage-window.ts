// The write outage a writer saw around an event, and what it is made of: where the longest gap between acknowledged
// commits began and ended, which server acknowledged before and after it, and what the client was told meanwhile.
import type { Writer } from '../../test/fixtures/writer';

export interface OutageReport {
  /** The longest gap between acknowledged commits that ends after the event (s). */
  readonly seconds: number;
  /** When the gap began and ended, in seconds from the event. */
  readonly startsAt: number;
  readonly endsAt: number;
  /** The servers that acknowledged the commits on either side of the gap. */
  readonly before?: string;
  readonly after?: string;
  /** The failures inside the gap, grouped by message (addresses and numbers blanked), most frequent first. */
  readonly failures: readonly (readonly [string, number])[];
}

/** A message with what varies from one attempt to the next blanked, so equal failures group. */
function shape(message: string): string {
  return message.replace(/\d+\.\d+\.\d+\.\d+(:\d+)?/g, '<addr>').replace(/\d+/g, 'N');
}

export function outageReport(writer: Writer, at: number): OutageReport {
  const acks = writer.acks;
  let worst = { gap: 0, i: -1 };
  for (let i = 1; i < acks.length; i++) {
    if (acks[i]!.at < at - 1000) continue;
    const gap = acks[i]!.at - acks[i - 1]!.at;
    if (gap > worst.gap) worst = { gap, i };
  }
  if (worst.i < 0) return { seconds: 0, startsAt: 0, endsAt: 0, failures: [] };
  const before = acks[worst.i - 1]!;
  const after = acks[worst.i]!;
  const counts = new Map<string, number>();
  for (const f of writer.failures) if (f.at > before.at && f.at < after.at) counts.set(shape(f.error), (counts.get(shape(f.error)) ?? 0) + 1);
  return {
    seconds: worst.gap / 1000,
    startsAt: (before.at - at) / 1000,
    endsAt: (after.at - at) / 1000,
    before: before.server,
    after: after.server,
    failures: [...counts].sort((a, b) => b[1] - a[1]),
  };
}

/**
 * Whether the event has visibly happened and writes resumed, so the outage can be read: a commit acknowledged by
 * another server than `oldServer` (the primary moved), or, when the same member may lead again, a commit after a
 * failed attempt that followed the event.
 */
export function writesResumed(writer: Writer, at: number, oldServer: string, primaryMayStay: boolean): boolean {
  if (writer.acks.some((a) => a.at > at && a.server !== oldServer)) return true;
  if (!primaryMayStay) return false;
  const failed = writer.failures.find((f) => f.at > at);
  return failed !== undefined && writer.acks.some((a) => a.at > failed.at);
}

/** One line: `1.26 s, from +0.31 s to +1.57 s, 192.0.2.11 → 192.0.2.12; 14 × connect ECONNREFUSED <addr>` */
export function describeOutage(r: OutageReport): string {
  const moved = r.before === r.after ? `${r.before} again` : `${r.before} → ${r.after}`;
  const failures = r.failures
    .slice(0, 2)
    .map(([m, n]) => `${n} × ${m}`)
    .join('; ');
  return `${r.seconds.toFixed(2)} s, from +${r.startsAt.toFixed(2)} s to +${r.endsAt.toFixed(2)} s, ${moved}${failures ? `; ${failures}` : ''}`;
}
