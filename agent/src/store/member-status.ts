import type { MemberState, MemberStatus } from '../core/model';
import type { KubeObject } from '../kube/object-cache';

/** Everything besides the status itself that goes into a member's Pod. */
export interface StatusContext {
  /** `postgres://host:port/postgres` */
  readonly connUrl: string;
  /** `http://host:port/patroni` */
  readonly apiUrl: string;
  readonly version: string;
  readonly roleLabel: string;
  readonly leaderLabelValue: string;
  readonly followerLabelValue: string;
  readonly tmpRoleLabel?: string;
  /**
   * Further Patroni fields (xlog_location, timeline, replication_state, tags...) from the local service. Whatever
   * it returns is compared with what the Pod shows, so its values must change only when they should be written.
   */
  readonly extra?: () => Readonly<Record<string, unknown>>;
}

const STATES: ReadonlySet<string> = new Set<MemberState>([
  'running',
  'stopped',
  'starting',
  'stopping',
  'crashed',
  'restarting',
  'creating replica',
  'initializing new cluster',
  'start failed',
  'bootstrap failed',
]);

/** The role label value that follows from a status: leader value, follower value, or none (label removed). */
export function roleLabelValue(status: MemberStatus, ctx: StatusContext): string | null {
  if (status.state !== 'running') return null;
  return status.role === 'primary' ? ctx.leaderLabelValue : ctx.followerLabelValue;
}

/** The `status` annotation: compact JSON with Patroni's field names. */
export function statusAnnotation(status: MemberStatus, ctx: StatusContext): string {
  return JSON.stringify({ conn_url: ctx.connUrl, api_url: ctx.apiUrl, state: status.state, role: status.role, version: ctx.version, ...ctx.extra?.() });
}

/** Strategic-merge patch for our Pod: role labels (null removes) and the status annotation. No resourceVersion. */
export function podStatusPatch(status: MemberStatus, ctx: StatusContext): Record<string, unknown> {
  const value = roleLabelValue(status, ctx);
  const labels: Record<string, string | null> = { [ctx.roleLabel]: value };
  if (ctx.tmpRoleLabel) labels[ctx.tmpRoleLabel] = value;
  return { metadata: { labels, annotations: { status: statusAnnotation(status, ctx) } } };
}

/** Reads `state` and `role` from a status annotation; `null` when missing or malformed. */
export function parseMemberStatus(raw: string | undefined): MemberStatus | null {
  if (raw === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const v = parsed as { state?: unknown; role?: unknown };
    const state = typeof v.state === 'string' && STATES.has(v.state) ? (v.state as MemberState) : null;
    const role = v.role === 'primary' || v.role === 'master' ? 'primary' : v.role === 'replica' ? 'replica' : null;
    return state && role ? { state, role } : null;
  } catch {
    return null;
  }
}

/**
 * What our own Pod shows: the status we would have written, or `'other'` when its labels or annotation differ in
 * any way from what we write for that status (then we write again).
 */
export function publishedStatus(pod: KubeObject, ctx: StatusContext): MemberStatus | 'other' {
  const raw = pod.metadata.annotations?.status;
  const status = parseMemberStatus(raw);
  if (!status || raw !== statusAnnotation(status, ctx)) return 'other';
  const want = roleLabelValue(status, ctx);
  const labels = pod.metadata.labels ?? {};
  const same = (key: string) => (labels[key] ?? null) === want;
  if (!same(ctx.roleLabel) || (ctx.tmpRoleLabel && !same(ctx.tmpRoleLabel))) return 'other';
  return status;
}
