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

  it('takes the deadline of the last write that landed, and ignores a success whose lease would already be over', () => {
    const fence = new LeaderFence({ clock, ttlMs: 30_000, onLost: () => undefined });
    const start = Date.now();
    fence.confirm(start);
    jest.advanceTimersByTime(10_000);
    fence.confirm(start + 10_000);
    expect(fence.leaseDeadline()).toBe(start + 35_000);
    jest.advanceTimersByTime(26_000);
    fence.confirm(start);
    expect(fence.leaseDeadline()).toBeNull();
  });

  it('shortens the lease from the first write that carries a lower ttl, before its answer arrives', () => {
    const deadlines: (number | null)[] = [];
    const fence = new LeaderFence({ clock, ttlMs: 30_000, onLost: () => undefined, onDeadline: (d) => deadlines.push(d) });
    const start = Date.now();
    fence.confirm(start, 30_000);
    expect(fence.leaseDeadline()).toBe(start + 25_000);
    jest.advanceTimersByTime(2_000);
    // ttl 10 from now on: the write may land, and the others would then time the lock by 10 s.
    fence.beginWrite(start + 2_000, 10_000);
    expect(fence.leaseDeadline()).toBe(start + 2_000 + 10_000 - 1_666);
    // Its answer is lost: the lease stays capped (it never goes back to the ttl-30 deadline).
    jest.advanceTimersByTime(8_334);
    expect(fence.leaseDeadline()).toBeNull();
    expect(deadlines).toEqual([start + 25_000, start + 10_334, null]);
  });

  it('a write carrying a higher ttl does not lengthen the lease until it is known to have landed', () => {
    const fence = new LeaderFence({ clock, ttlMs: 10_000, onLost: () => undefined });
    const start = Date.now();
    fence.confirm(start, 10_000);
    fence.beginWrite(start + 1_000, 30_000);
    expect(fence.leaseDeadline()).toBe(start + 10_000 - 1_666);
    fence.confirm(start + 1_000, 30_000);
    expect(fence.leaseDeadline()).toBe(start + 26_000);
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
