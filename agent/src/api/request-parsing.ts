import type { RestartRequest, SwitchoverRequest } from './backend';

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

/** ISO 8601 with an explicit time zone, as Patroni requires for schedules. */
export function parseSchedule(value: string, action: string): Date {
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim())) throw new BadRequest(`Timezone information is mandatory for the scheduled ${action}`);
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new BadRequest(`Unable to parse scheduled timestamp (${value}). It should be in ISO 8601 format.`);
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
    if (!/^\d+(\.\d+){0,2}$/.test(version)) throw new BadRequest(`postgres_version must look like 15 or 15.4; got ${JSON.stringify(version)}`);
    out.postgresVersion = version;
  }
  if (body.timeout !== undefined) {
    const t = typeof body.timeout === 'string' ? Number(body.timeout.replace(/s$/, '')) : body.timeout;
    if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0)
      throw new BadRequest(`timeout must be a positive number of seconds; got ${JSON.stringify(body.timeout)}`);
    out.timeoutSeconds = t;
  }
  const schedule = optionalString(body, 'schedule');
  if (schedule !== undefined) out.scheduledAt = parseSchedule(schedule, 'restart');
  return out;
}

export function parseReinitialize(body: Record<string, unknown>): { force: boolean; fromLeader: boolean } {
  for (const key of ['force', 'from_leader']) {
    if (body[key] !== undefined && typeof body[key] !== 'boolean') throw new BadRequest(`${key} must be true or false; got ${JSON.stringify(body[key])}`);
  }
  return { force: body.force === true, fromLeader: body.from_leader === true };
}
