import type { Clock } from '../../../agent/src/clock';
import { apiServerUrls } from '../../../agent/src/kube/api-server-pool';
import { LeaderFence } from '../../../agent/src/loop/leader-fence';

describe('LeaderFence', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const clock: Clock = { monotonicMs: () => Date.now(), wallTime: () => new Date() };

  it('ends leadership by itself at write start + ttl - margin, without the loop', () => {
    const lost: string[] = [];
    const fence = new LeaderFence({ clock, ttlMs: 30_000, onLost: (c) => lost.push(c) });
    const start = Date.now();
    fence.confirm(start);
    expect(fence.leaseDeadline()).toBe(start + 25_000);
    jest.advanceTimersByTime(24_999);
    expect(lost).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(lost).toEqual(['lease-deadline']);
    expect(fence.leaseDeadline()).toBeNull();
  });

  it('extends only forward, and ignores a success whose lease would already be over', () => {
    const fence = new LeaderFence({ clock, ttlMs: 30_000, onLost: () => undefined });
    const start = Date.now();
    fence.confirm(start);
    fence.confirm(start - 10_000);
    expect(fence.leaseDeadline()).toBe(start + 25_000);
    jest.advanceTimersByTime(26_000);
    fence.confirm(start);
    expect(fence.leaseDeadline()).toBeNull();
  });

  it('reports a revoke once', () => {
    const lost: string[] = [];
    const fence = new LeaderFence({ clock, ttlMs: 30_000, onLost: (c) => lost.push(c) });
    fence.confirm(Date.now());
    fence.revoke('lock-lost');
    fence.revoke('lock-lost');
    jest.advanceTimersByTime(60_000);
    expect(lost).toEqual(['lock-lost']);
  });
});

describe('apiServerUrls', () => {
  it('takes every address of the TCP port named https', () => {
    expect(
      apiServerUrls({
        subsets: [
          { addresses: [{ ip: '192.0.2.1' }, { ip: '192.0.2.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] },
          { addresses: [{ ip: '192.0.2.3' }], ports: [{ name: 'metrics', port: 8080 }] },
          { addresses: [{ ip: 'fd00::1' }], ports: [{ name: 'https', port: 443 }] },
        ],
      }),
    ).toEqual(['https://192.0.2.1:6443', 'https://192.0.2.2:6443', 'https://[fd00::1]:443']);
  });
});
