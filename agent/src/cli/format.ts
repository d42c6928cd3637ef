/**
 * Text output of the cluster commands: aligned tables a person reads, and the JSON shapes scripts read (`--json`).
 * Pure functions of the view.
 */
import { stringify as toYaml } from 'yaml';
import type { ClusterView, HistoryEntry, MemberView } from './cluster-view';

/** Aligns rows under a header, two spaces between columns, trailing spaces trimmed. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Bytes as megabytes with one decimal, as patronictl's "Lag in MB" column; a trailing `.0` is dropped. */
export function lagMb(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  return (bytes / 1048576).toFixed(1).replace(/\.0$/, '');
}

function hostColumn(m: MemberView): string {
  return m.port === 5432 ? m.host : `${m.host}:${m.port}`;
}

/** The `list` table, with a title line naming the cluster and its system identifier. */
export function formatList(view: ClusterView): string {
  const flags = [view.systemId ? `system id ${view.systemId}` : 'not initialized', ...(view.paused ? ['maintenance mode: paused'] : [])];
  const withPending = view.members.some((m) => m.pendingRestart);
  const withScheduled = view.members.some((m) => m.scheduledRestart);
  const withTags = view.members.some((m) => Object.keys(m.tags).length > 0);
  const header = [
    'Member',
    'Host',
    'Role',
    'State',
    'TL',
    'Lag in MB',
    ...(withPending ? ['Pending restart'] : []),
    ...(withScheduled ? ['Scheduled restart'] : []),
    ...(withTags ? ['Tags'] : []),
  ];
  const rows = view.members.map((m) => [
    m.name,
    hostColumn(m),
    m.role,
    m.state,
    m.timeline === undefined ? '' : String(m.timeline),
    lagMb(m.lagBytes),
    ...(withPending ? [m.pendingRestart ? '*' : ''] : []),
    ...(withScheduled ? [m.scheduledRestart ?? ''] : []),
    ...(withTags ? [Object.keys(m.tags).length ? JSON.stringify(m.tags) : ''] : []),
  ]);
  const lines = [`Cluster: ${view.scope} (${flags.join(', ')})`, table(header, rows)];
  if (view.members.length === 0) lines.push('(no members have published a status)');
  if (view.scheduledSwitchover) {
    const s = view.scheduledSwitchover;
    lines.push(`Switchover scheduled at ${s.at ?? '?'}: from ${s.from ?? 'the leader'} to ${s.to ?? 'any healthy member'}`);
  }
  for (const w of view.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** `list --json`: the view with Patroni's field names where it has them. */
export function listJson(view: ClusterView): Record<string, unknown> {
  return {
    scope: view.scope,
    system_id: view.systemId ?? null,
    leader: view.leader ?? null,
    pause: view.paused,
    members: view.members.map((m) => ({
      name: m.name,
      host: m.host,
      port: m.port,
      role: m.role === 'Leader' ? 'leader' : m.role === 'Standby Leader' ? 'standby_leader' : m.role === 'Sync Standby' ? 'sync_standby' : 'replica',
      state: m.state,
      timeline: m.timeline ?? null,
      lag: m.lagBytes ?? null,
      api_url: m.apiUrl ?? null,
      pending_restart: m.pendingRestart,
      ...(m.scheduledRestart ? { scheduled_restart: m.scheduledRestart } : {}),
      tags: m.tags,
    })),
    ...(view.scheduledSwitchover ? { scheduled_switchover: view.scheduledSwitchover } : {}),
    warnings: view.warnings,
  };
}

/** An LSN in PostgreSQL's `X/Y` notation. */
export function formatLsn(lsn: number): string {
  const hi = Math.floor(lsn / 2 ** 32);
  const lo = lsn % 2 ** 32;
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}

export function formatHistory(entries: readonly HistoryEntry[]): string {
  const rows = entries.map((e) => [String(e.timeline), String(e.lsn), e.reason, e.timestamp ?? '', e.newLeader ?? '']);
  return table(['TL', 'LSN', 'Reason', 'Timestamp', 'New Leader'], rows);
}

/** `history --json`: Patroni's own list shape, `[[tl, lsn, reason, ts, leader]…]`. */
export function historyJson(entries: readonly HistoryEntry[]): unknown[] {
  return entries.map((e) => [e.timeline, e.lsn, e.reason, e.timestamp ?? null, e.newLeader ?? null]);
}

/** The dynamic configuration as YAML with sorted keys, as `show-config` prints it. */
export function formatConfig(config: Readonly<Record<string, unknown>>): string {
  return toYaml(config, { sortMapEntries: true }).trimEnd();
}
