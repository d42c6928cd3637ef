import { describeOutage, outageReport, writesResumed } from '../../../bench/lib/outage-window';
import { Writer } from '../../fixtures/writer';

/** A writer that never ran, with the acknowledgments and failures a test gives it. */
function recorded(acks: [number, string][], failures: [number, string][] = []): Writer {
  const w = new Writer({ host: '127.0.0.1', port: 1, user: 'u', password: 'p' });
  acks.forEach(([at, server], id) => w.acks.push({ id, at, server }));
  failures.forEach(([at, error]) => w.failures.push({ at, error }));
  return w;
}

describe('the outage around an event', () => {
  const w = recorded(
    [
      [9_000, '192.0.2.1'],
      [10_100, '192.0.2.1'],
      [10_200, '192.0.2.1'],
      [11_700, '192.0.2.2'],
      [11_710, '192.0.2.2'],
    ],
    [
      [10_300, 'connect ECONNREFUSED 192.0.2.1:5432'],
      [10_400, 'connect ECONNREFUSED 192.0.2.1:5432'],
      [11_000, 'cannot execute INSERT in a read-only transaction'],
    ],
  );

  it('is the longest gap ending after the event, with where it began and ended and what failed inside it', () => {
    const r = outageReport(w, 10_000);
    expect(r).toMatchObject({
      seconds: 1.5,
      before: '192.0.2.1',
      after: '192.0.2.2',
      failures: [
        ['connect ECONNREFUSED <addr>', 2],
        ['cannot execute INSERT in a read-only transaction', 1],
      ],
    });
    expect(r.startsAt).toBeCloseTo(0.2);
    expect(r.endsAt).toBeCloseTo(1.7);
    expect(describeOutage(r)).toBe(
      '1.50 s, from +0.20 s to +1.70 s, 192.0.2.1 → 192.0.2.2; 2 × connect ECONNREFUSED <addr>; 1 × cannot execute INSERT in a read-only transaction',
    );
  });

  it('is readable only once writes resumed: on another server, or after a failure when the same member may lead again', () => {
    expect(writesResumed(w, 10_000, '192.0.2.1', false)).toBe(true);
    const same = recorded([
      [10_100, '192.0.2.1'],
      [10_200, '192.0.2.1'],
    ]);
    expect(writesResumed(same, 10_000, '192.0.2.1', true)).toBe(false);
    same.failures.push({ at: 10_300, error: 'timeout' });
    expect(writesResumed(same, 10_000, '192.0.2.1', true)).toBe(false);
    same.acks.push({ id: 3, at: 14_000, server: '192.0.2.1' });
    expect(writesResumed(same, 10_000, '192.0.2.1', true)).toBe(true);
    expect(writesResumed(same, 10_000, '192.0.2.1', false)).toBe(false);
  });
});
