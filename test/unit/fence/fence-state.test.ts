import { decodeFence, encodeFence, uptimeCentiseconds } from '../../../agent/src/fence/fence-state';

describe('fence file format', () => {
  it('round-trips armed and off states with the writing agent', () => {
    const armed = { armed: true, deadlineCs: 123456789, agentPid: 42 } as const;
    expect(decodeFence(encodeFence(armed))).toEqual(armed);
    expect(decodeFence(encodeFence({ armed: false, agentPid: 7 }))).toEqual({ armed: false, agentPid: 7 });
  });

  it.each(['', 'garbage', 'pgha-fence 1 1 off', 'pgha-fence 2 x armed 5', 'pgha-fence 2 1 armed -5'])('treats %j as armed and expired (fail safe)', (text) => {
    expect(decodeFence(text)).toEqual({ armed: true, deadlineCs: 0, agentPid: 0 });
  });

  it('reads CLOCK_BOOTTIME in centiseconds from /proc/uptime', () => {
    expect(uptimeCentiseconds('12345.67 98765.43\n')).toBe(1234567);
    expect(uptimeCentiseconds('0.05 0.00\n')).toBe(5);
    expect(() => uptimeCentiseconds('nonsense')).toThrow('unreadable /proc/uptime');
  });
});
