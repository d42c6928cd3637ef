import type { Clock } from '../../../agent/src/clock';
import { LeaderFence } from '../../../agent/src/loop/leader-fence';

describe('LeaderFence with the ttl a write carried (dynamic ttl)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const clock: Clock = { monotonicMs: () => Date.now(), wallTime: () => new Date() };

  it('times the lease by the ttl of the confirmed write, not the one it started with', () => {
    const lost: string[] = [];
    const fence = new LeaderFence({ clock, ttlMs: 30_000, onLost: (c) => lost.push(c) });
    const start = Date.now();
    fence.confirm(start, 12_000);
    // 12 s ttl: margin max(1 s, 2 s) = 2 s.
    expect(fence.leaseDeadline()).toBe(start + 10_000);
    jest.advanceTimersByTime(10_000);
    expect(lost).toEqual(['lease-deadline']);
  });
});
