import { BadRequest, parseJsonObject, parseRestart, parseSwitchover } from '../../../agent/src/api/request-parsing';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequest);
    return (err as Error).message;
  }
  throw new Error('expected BadRequest');
}

describe('parseSwitchover', () => {
  it('accepts a switchover from the leader to a candidate, scheduled with a time zone', () => {
    const r = parseSwitchover({ leader: 'a', candidate: 'b', scheduled_at: '2030-01-01T10:00:00+01:00' }, 'switchover');
    expect(r).toEqual({ action: 'switchover', endpoint: 'switchover', leader: 'a', candidate: 'b', scheduledAt: new Date('2030-01-01T09:00:00Z') });
  });

  it('turns a failover that names the leader into a switchover, answered as the failover endpoint', () => {
    expect(parseSwitchover({ leader: 'a', candidate: 'b' }, 'failover')).toMatchObject({ action: 'switchover', endpoint: 'failover' });
  });

  it.each<[Record<string, unknown>, 'switchover' | 'failover', string]>([
    [{ leader: 'a' }, 'failover', 'Failover could be performed only to a specific candidate'],
    [{ candidate: 'b' }, 'switchover', 'Switchover could be performed only from a specific leader'],
    [{ candidate: 'b', scheduled_at: '2030-01-01T00:00:00Z' }, 'failover', "Failover can't be scheduled"],
    [{ leader: 'a', candidate: 'a' }, 'switchover', 'Switchover target and source are the same'],
    [{ leader: 'a', scheduled_at: '2030-01-01T00:00:00' }, 'switchover', 'Timezone information is mandatory for the scheduled switchover'],
    [{ leader: 'a', scheduled_at: 'next tuesday Z' }, 'switchover', 'Unable to parse scheduled timestamp (next tuesday Z). It should be in ISO 8601 format.'],
    [{ leader: 7 }, 'switchover', 'leader must be a string; got 7'],
  ])('fails on %j for %s', (body, endpoint, expected) => {
    expect(message(() => parseSwitchover(body, endpoint))).toBe(expected);
  });
});

describe('parseJsonObject', () => {
  it.each([
    ['', 'request body is empty; a JSON object is required'],
    ['[1]', 'request body must be a JSON object'],
    ['{"a":', /^request body is not valid JSON: /],
  ])('fails on %p', (text, expected) => {
    expect(message(() => parseJsonObject(text))).toMatch(expected);
  });
});

describe('parseRestart', () => {
  it('maps Patroni fields', () => {
    expect(parseRestart({ restart_pending: true, role: 'master', postgres_version: '15.4', timeout: '30s' })).toEqual({
      restartPending: true,
      role: 'primary',
      postgresVersion: '15.4',
      timeoutSeconds: 30,
    });
  });
  it.each<[Record<string, unknown>, RegExp]>([
    [{ restart_pending: 'yes' }, /restart_pending must be true or false/],
    [{ role: 'leader' }, /role must be primary or replica; got "leader"/],
    [{ timeout: -1 }, /timeout must be a positive number of seconds; got -1/],
    [{ when: 'now' }, /unknown restart condition "when"/],
    [{ postgres_version: '15' }, /postgres_version must be X.Y or X.Y.Z .*; got "15"/],
  ])('fails on %j', (body, expected) => {
    expect(message(() => parseRestart(body))).toMatch(expected);
  });

  it('takes a schedule with a time zone', () => {
    expect(parseRestart({ schedule: '2030-01-01T10:00:00+01:00' })).toEqual({ scheduledAt: new Date('2030-01-01T09:00:00Z') });
  });

  it.each<[unknown, number, string]>([
    ['2030-01-01T10:00:00', 400, 'Timezone information is mandatory for the scheduled restart (schedule: "2030-01-01T10:00:00" has none; add Z or +HH:MM)'],
    ['tomorrow Z', 422, 'Unable to parse scheduled timestamp (schedule: "tomorrow Z"). It should be in ISO 8601 format.'],
    [42, 422, 'schedule must be an ISO 8601 time with a time zone; got 42'],
  ])("fails on the schedule %j with Patroni's status %d", (schedule, status, text) => {
    try {
      parseRestart({ schedule });
      throw new Error('expected BadRequest');
    } catch (err) {
      expect(err).toBeInstanceOf(BadRequest);
      expect((err as BadRequest).status).toBe(status);
      expect((err as Error).message).toBe(text);
    }
  });
});
