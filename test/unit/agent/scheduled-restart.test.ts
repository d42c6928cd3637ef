import {
  isoSchedule,
  postgresVersionNum,
  type RestartFacts,
  type ScheduledRestart,
  scheduledRestartJson,
  scheduledRestartVerdict,
  type ScheduledRestartVerdict,
  scheduleRefusal,
  unmetCondition,
} from '../../../agent/src/core/scheduled-restart';

const AT = Date.parse('2030-01-01T10:00:00Z');
const STARTED = '2030-01-01 09:00:00.1+00:00';
const replica: RestartFacts = { running: true, role: 'replica', serverVersionNum: 160004, pendingRestart: false, postmasterStartTime: STARTED };
const scheduled: ScheduledRestart = { atMs: AT, postmasterStartTime: STARTED };
const LOOP_WAIT_MS = 10_000;

const verdict = (over: { s?: Partial<ScheduledRestart>; f?: Partial<RestartFacts>; nowMs?: number; paused?: boolean } = {}) =>
  scheduledRestartVerdict({
    scheduled: { ...scheduled, ...over.s },
    nowMs: over.nowMs ?? AT,
    loopWaitMs: LOOP_WAIT_MS,
    paused: over.paused ?? false,
    facts: { ...replica, ...over.f },
  });

describe('postgresVersionNum', () => {
  it.each<[string, number | undefined]>([
    ['9.5.3', 90503],
    ['10.1', 100001],
    ['16.4', 160004],
    ['15.0.1', 150001],
    ['10', undefined],
    ['9.6', undefined],
    ['a.b.c', undefined],
    ['1.2.3.4', undefined],
  ])('%s is %p, as Patroni reads it', (text, num) => expect(postgresVersionNum(text)).toBe(num));
});

describe('unmetCondition', () => {
  it.each<[string, Parameters<typeof unmetCondition>[0], Partial<RestartFacts>, RegExp | undefined]>([
    ['no conditions', {}, {}, undefined],
    ['the role matches', { role: 'replica' }, {}, undefined],
    ['the role differs', { role: 'primary' }, {}, /^host role mismatch: the member runs as replica/],
    ['the server is older than the version asked', { postgresVersion: '16.5' }, {}, undefined],
    ['the server runs that version already', { postgresVersion: '16.4' }, {}, /^postgres version mismatch: the server runs 160004/],
    ['the server is newer', { postgresVersion: '15.8' }, {}, /^postgres version mismatch/],
    ['a restart is pending', { restartPending: true }, { pendingRestart: true }, undefined],
    ['no restart is pending', { restartPending: true }, {}, /^pending restart flag is not set$/],
    ['restart_pending false is no condition', { restartPending: false }, {}, undefined],
  ])('%s', (_what, c, f, expected) => {
    const why = unmetCondition(c, { ...replica, ...f });
    if (expected === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(expected);
  });
});

describe('scheduleRefusal', () => {
  const ok = { atMs: AT, nowMs: AT - 1000, paused: false, pending: false };
  it('accepts a time in the future when nothing is scheduled', () => expect(scheduleRefusal(ok)).toBeUndefined());
  it.each<[string, Partial<typeof ok>, number, RegExp]>([
    ['the cluster is paused', { paused: true }, 500, /^Can't schedule restart in the paused state$/],
    ['the time is in the past', { nowMs: AT + 1 }, 422, /^Cannot schedule restart in the past: schedule 2030-01-01T10:00:00.000Z is before now/],
    ['a restart is scheduled already', { pending: true }, 409, /^Another restart is already scheduled$/],
  ])('fails when %s', (_what, over, status, message) => {
    const r = scheduleRefusal({ ...ok, ...over });
    expect(r?.status).toBe(status);
    expect(r?.message).toMatch(message);
  });
});

describe('scheduledRestartVerdict', () => {
  it('is none when nothing is scheduled', () => {
    expect(scheduledRestartVerdict({ scheduled: undefined, nowMs: AT, loopWaitMs: LOOP_WAIT_MS, paused: false, facts: replica })).toEqual({ kind: 'none' });
  });

  it.each<[string, Parameters<typeof verdict>[0], ScheduledRestartVerdict['kind'], RegExp | number | undefined]>([
    ['before the time: wait until it', { nowMs: AT - 2500 }, 'wait', 2500],
    ['at the time: restart', {}, 'restart', undefined],
    ['a loop late: still restart', { nowMs: AT + LOOP_WAIT_MS }, 'restart', undefined],
    ['more than 1.5 loops late: stale, dropped', { nowMs: AT + 1.5 * LOOP_WAIT_MS + 1 }, 'cancel', /^stale: the scheduled time passed 15s ago$/],
    ['paused: kept, not carried out', { paused: true }, 'hold', /^paused$/],
    ['paused long past the time: still kept (Patroni drops nothing in pause)', { paused: true, nowMs: AT + 60_000 }, 'hold', /^paused$/],
    ['postgres down at the time: kept until stale', { f: { running: false, postmasterStartTime: undefined } }, 'hold', /not running/],
    ['postgres restarted since: dropped', { f: { postmasterStartTime: '2030-01-01 09:30:00+00:00' } }, 'cancel', /^postgres restarted meanwhile/],
    ['scheduled while postgres was down: no start time to compare', { s: { postmasterStartTime: undefined } }, 'restart', undefined],
    ['for another role: dropped', { s: { role: 'primary' } }, 'cancel', /^restart conditions are not satisfied: host role mismatch/],
    ['only if pending, and nothing is: dropped', { s: { restartPending: true } }, 'cancel', /pending restart flag is not set/],
    ['only if pending, and something is', { s: { restartPending: true }, f: { pendingRestart: true } }, 'restart', undefined],
    ['only below a version the server has reached: dropped', { s: { postgresVersion: '16.1' } }, 'cancel', /postgres version mismatch/],
  ])('%s', (_what, over, kind, detail) => {
    const v = verdict(over);
    expect(v.kind).toBe(kind);
    if (typeof detail === 'number') expect(v).toEqual({ kind: 'wait', inMs: detail });
    else if (detail) expect('why' in v ? v.why : '').toMatch(detail);
  });
});

describe('the published scheduled_restart', () => {
  it("has Patroni's fields, with the start time in the Pod status only", () => {
    const s: ScheduledRestart = { atMs: AT, role: 'replica', postgresVersion: '17.1', timeoutSeconds: 30, restartPending: true, postmasterStartTime: STARTED };
    expect(scheduledRestartJson(s, false)).toEqual({
      schedule: '2030-01-01T10:00:00+00:00',
      role: 'replica',
      postgres_version: '17.1',
      timeout: 30,
      restart_pending: true,
    });
    expect(scheduledRestartJson({ atMs: AT }, true)).toEqual({ schedule: '2030-01-01T10:00:00+00:00', postmaster_start_time: null });
  });

  it('keeps milliseconds in the ISO form', () => expect(isoSchedule(AT + 250)).toBe('2030-01-01T10:00:00.250+00:00'));
});
