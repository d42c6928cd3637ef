import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leaseSafetyMarginMs, MIN_LEASE_MARGIN_MS } from '../../../agent/src/core/lease';
import { FenceFile, WATCHDOG_GRACE_MS } from '../../../agent/src/fence/fence-file';
import { decodeFence } from '../../../agent/src/fence/fence-state';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fence file on a clock the test sets: monotonic ms, boot time in centiseconds. */
function fenceAt(clock: { ms: number; cs: number }): { fence: FenceFile; read: () => ReturnType<typeof decodeFence> } {
  const dir = mkdtempSync(join(tmpdir(), 'pgha-fence-file-'));
  dirs.push(dir);
  const path = join(dir, 'run', 'fence');
  const fence = new FenceFile({ path, monotonicMs: () => clock.ms, bootTimeCs: () => clock.cs });
  fence.init();
  return { fence, read: () => decodeFence(readFileSync(path, 'utf8')) };
}

describe('fence file (the agent side)', () => {
  it('gives the watchdog the lease deadline plus its grace, on the boot-time clock, rounded down', () => {
    const clock = { ms: 5_000, cs: 100_000 };
    const { fence, read } = fenceAt(clock);
    fence.setLease(5_000 + 2_345);
    expect(read()).toEqual({ armed: true, deadlineCs: 100_000 + Math.floor((2_345 + WATCHDOG_GRACE_MS) / 10), agentPid: process.pid });
  });

  it('not leading: a primary still running is killed once the grace is over', () => {
    const { fence, read } = fenceAt({ ms: 1, cs: 700 });
    fence.setLease(null);
    expect(read()).toMatchObject({ armed: true, deadlineCs: 700 + WATCHDOG_GRACE_MS / 10 });
  });

  it('a lease already over counts from now, never from the past', () => {
    const clock = { ms: 9_000, cs: 40 };
    const { fence, read } = fenceAt(clock);
    fence.setLease(8_000);
    expect(read()).toMatchObject({ deadlineCs: 40 + WATCHDOG_GRACE_MS / 10 });
  });

  it('the grace ends before any other member may take the lock, for every ttl', () => {
    expect(WATCHDOG_GRACE_MS).toBeGreaterThan(0);
    for (const ttlMs of [1_000, 10_000, 30_000, 600_000]) expect(WATCHDOG_GRACE_MS).toBeLessThanOrEqual(leaseSafetyMarginMs(ttlMs) - MIN_LEASE_MARGIN_MS / 2);
  });

  it('off while fencing is off (bootstrap, pause)', () => {
    const { fence, read } = fenceAt({ ms: 0, cs: 0 });
    fence.setArmed(false);
    expect(read()).toEqual({ armed: false, agentPid: process.pid });
  });
});
