import { postgresVersionNum } from '../core/scheduled-restart';
import type { FailsafeRequestBody, RestartRequest, SwitchoverRequest } from './backend';

/** A request the API refuses before it reaches the agent: 400 with this message. */
export class BadRequest extends Error {
  override readonly name = 'BadRequest';
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export function parseJsonObject(text: string): Record<string, unknown> {
  if (text.trim() === '') throw new BadRequest('request body is empty; a JSON object is required');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BadRequest(`request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequest('request body must be a JSON object');
  return value as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new BadRequest(`${key} must be a string; got ${JSON.stringify(v)}`);
  return v;
}

/**
 * ISO 8601 with an explicit time zone, as Patroni requires for schedules, refused in Patroni's words. With `field`
 * (the body's key), the messages say which field and value after them. `unparseableStatus`: Patroni answers 422 for a
 * restart's schedule it cannot parse (400 without a time zone).
 */
export function parseSchedule(value: string, action: string, unparseableStatus = 400, field?: string): Date {
  const shown = field ? `${field}: ${JSON.stringify(value)}` : value;
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim()))
    throw new BadRequest(`Timezone information is mandatory for the scheduled ${action}${field ? ` (${shown} has none; add Z or +HH:MM)` : ''}`);
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new BadRequest(`Unable to parse scheduled timestamp (${shown}). It should be in ISO 8601 format.`, unparseableStatus);
  return d;
}

/** `POST /switchover` and `POST /failover` bodies, with Patroni's messages for the checks that need no cluster state. */
export function parseSwitchover(body: Record<string, unknown>, endpoint: 'switchover' | 'failover'): SwitchoverRequest {
  const leader = optionalString(body, 'leader');
  const candidate = optionalString(body, 'candidate') ?? optionalString(body, 'member');
  const scheduled = optionalString(body, 'scheduled_at');
  if (endpoint === 'failover' && !candidate) throw new BadRequest('Failover could be performed only to a specific candidate');
  if (endpoint === 'switchover' && !leader) throw new BadRequest('Switchover could be performed only from a specific leader');
  // A failover that names the leader is a switchover (Patroni does the same).
  const action = endpoint === 'failover' && leader ? 'switchover' : endpoint;
  if (scheduled && action === 'failover') throw new BadRequest("Failover can't be scheduled");
  if (leader && candidate && leader === candidate) throw new BadRequest('Switchover target and source are the same');
  return { action, endpoint, leader, candidate, scheduledAt: scheduled ? parseSchedule(scheduled, action) : undefined };
}

export function parseRestart(body: Record<string, unknown>): RestartRequest {
  const out: { -readonly [K in keyof RestartRequest]: RestartRequest[K] } = {};
  for (const key of Object.keys(body)) {
    if (!['restart_pending', 'role', 'postgres_version', 'timeout', 'schedule'].includes(key)) {
      throw new BadRequest(`unknown restart condition ${JSON.stringify(key)}; allowed: restart_pending, role, postgres_version, timeout, schedule`);
    }
  }
  if (body.restart_pending !== undefined) {
    if (typeof body.restart_pending !== 'boolean') throw new BadRequest('restart_pending must be true or false');
    out.restartPending = body.restart_pending;
  }
  if (body.role !== undefined) {
    const role = body.role === 'master' ? 'primary' : body.role;
    if (role !== 'primary' && role !== 'replica') throw new BadRequest(`role must be primary or replica; got ${JSON.stringify(body.role)}`);
    out.role = role;
  }
  const version = optionalString(body, 'postgres_version');
  if (version !== undefined) {
    if (postgresVersionNum(version) === undefined)
      throw new BadRequest(`postgres_version must be X.Y or X.Y.Z (16.4, 9.6.3), as Patroni reads it; got ${JSON.stringify(version)}`);
    out.postgresVersion = version;
  }
  if (body.timeout !== undefined) {
    const t = typeof body.timeout === 'string' ? Number(body.timeout.replace(/s$/, '')) : body.timeout;
    if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0)
      throw new BadRequest(`timeout must be a positive number of seconds; got ${JSON.stringify(body.timeout)}`);
    out.timeoutSeconds = t;
  }
  const schedule = body.schedule;
  if (schedule !== undefined && schedule !== null && schedule !== '') {
    if (typeof schedule !== 'string') throw new BadRequest(`schedule must be an ISO 8601 time with a time zone; got ${JSON.stringify(schedule)}`, 422);
    out.scheduledAt = parseSchedule(schedule, 'restart', 422, 'schedule');
  }
  return out;
}

/** `POST /failsafe`: `name` (the asking leader) and, from a pgha leader, `ttl` in seconds (at most an hour). */
export function parseFailsafe(body: Record<string, unknown>): FailsafeRequestBody {
  if (typeof body.name !== 'string' || body.name === '') throw new BadRequest(`name must be the asking leader's member name; got ${JSON.stringify(body.name)}`);
  const ttl = body.ttl;
  if (ttl === undefined || ttl === null) return { name: body.name };
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0 || ttl > 3600)
    throw new BadRequest(`ttl must be a number of seconds above 0 and at most 3600; got ${JSON.stringify(ttl)}`);
  return { name: body.name, ttlSeconds: ttl };
}

export function parseReinitialize(body: Record<string, unknown>): { force: boolean; fromLeader: boolean } {
  for (const key of ['force', 'from_leader']) {
    if (body[key] !== undefined && typeof body[key] !== 'boolean') throw new BadRequest(`${key} must be true or false; got ${JSON.stringify(body[key])}`);
  }
  return { force: body.force === true, fromLeader: body.from_leader === true };
}
