import { decodeFence, encodeFence, fenceExpired } from '../../../agent/src/fence/fence-state';

describe('fence file format', () => {
  it('round-trips armed and off states with the writing agent', () => {
    const armed = { armed: true, deadlineNs: 123456789012345n, agentPid: 42 } as const;
    expect(decodeFence(encodeFence(armed))).toEqual(armed);
    expect(decodeFence(encodeFence({ armed: false, agentPid: 7 }))).toEqual({ armed: false, agentPid: 7 });
  });

  it.each(['', 'garbage', 'pgha-fence 2 1 off', 'pgha-fence 1 x armed 5', 'pgha-fence 1 1 armed -5'])('treats %j as armed and expired (fail safe)', (text) => {
    expect(decodeFence(text)).toEqual({ armed: true, deadlineNs: 0n, agentPid: 0 });
  });

  it('is expired only when armed and the deadline has come', () => {
    expect(fenceExpired({ armed: true, deadlineNs: 10n, agentPid: 1 }, 9n)).toBe(false);
    expect(fenceExpired({ armed: true, deadlineNs: 10n, agentPid: 1 }, 10n)).toBe(true);
    expect(fenceExpired({ armed: false, agentPid: 1 }, 10n ** 20n)).toBe(false);
  });
});
