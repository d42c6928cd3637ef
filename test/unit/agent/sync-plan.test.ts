import fc from 'fast-check';
import { planSync, type StandbyConnection, type SyncInput, ssnFor, ssnMembers } from '../../../agent/src/core/sync-plan';

const conn = (name: string, over: Partial<StandbyConnection> = {}): StandbyConnection => ({
  name,
  state: 'streaming',
  syncState: 'async',
  flushLsn: 100n,
  ...over,
});
const input = (over: Partial<SyncInput> = {}): SyncInput => ({
  me: 'a',
  enabled: true,
  strict: false,
  count: 1,
  object: { leader: 'a', standbys: [] },
  ssn: '',
  connections: [conn('b'), conn('c')],
  nosync: [],
  ssnChangedAt: 50n,
  ...over,
});

describe('ssn text', () => {
  it("is Patroni's form and reads back", () => {
    expect(ssnFor(['b', 'c-1'], false)).toBe('2 ("b","c-1")');
    expect(ssnFor([], false)).toBe('');
    expect(ssnFor([], true)).toBe('*');
    expect(ssnMembers('2 ("b","c-1")')).toEqual(['b', 'c-1']);
    expect(ssnMembers('FIRST 1 (b, c)')).toEqual(['b', 'c']);
    expect(ssnMembers('*')).toEqual([]);
    expect(ssnMembers('')).toEqual([]);
  });
});

describe('planSync', () => {
  it.each<[string, SyncInput, unknown]>([
    ['off and clean: nothing', input({ enabled: false }), { kind: 'none' }],
    [
      'turned off: the object empties first',
      input({ enabled: false, object: { leader: 'a', standbys: ['b'] }, ssn: '1 ("b")' }),
      { kind: 'write-object', standbys: [] },
    ],
    ['turned off, object empty: then postgres', input({ enabled: false, ssn: '1 ("b")' }), { kind: 'set-ssn', value: '' }],
    ['on: postgres is told first', input(), { kind: 'set-ssn', value: '1 ("b")' }],
    ['on, postgres waits for b but does not report it sync yet: nothing', input({ ssn: '1 ("b")' }), { kind: 'none' }],
    [
      'on, b sync but behind the change point: not yet',
      input({ ssn: '1 ("b")', connections: [conn('b', { syncState: 'sync', flushLsn: 10n })] }),
      { kind: 'none' },
    ],
    [
      'on, b sync and caught up: recorded',
      input({ ssn: '1 ("b")', connections: [conn('b', { syncState: 'sync' })] }),
      { kind: 'write-object', standbys: ['b'] },
    ],
    [
      'change point unknown: nobody joins',
      input({ ssn: '1 ("b")', ssnChangedAt: undefined, connections: [conn('b', { syncState: 'sync' })] }),
      { kind: 'none' },
    ],
    [
      'sync standby gone: leaves the object first',
      input({ object: { leader: 'a', standbys: ['b'] }, ssn: '1 ("b")', connections: [conn('c')] }),
      { kind: 'write-object', standbys: [] },
    ],
    ['then postgres switches to the next standby', input({ ssn: '1 ("b")', connections: [conn('c')] }), { kind: 'set-ssn', value: '1 ("c")' }],
    ['no standby, strict: the placeholder keeps commits waiting', input({ strict: true, connections: [] }), { kind: 'set-ssn', value: '*' }],
    ['no standby, not strict: asynchronous', input({ ssn: '1 ("b")', connections: [] }), { kind: 'set-ssn', value: '' }],
    ['nosync members are never chosen', input({ nosync: ['b'] }), { kind: 'set-ssn', value: '1 ("c")' }],
    [
      'a listed member is kept over others',
      input({
        object: { leader: 'a', standbys: ['c'] },
        ssn: '1 ("c")',
        connections: [conn('b', { syncState: 'potential' }), conn('c', { syncState: 'sync' })],
      }),
      { kind: 'none' },
    ],
    [
      'a new leader starts from nobody',
      input({ object: { leader: 'x', standbys: ['b'] }, ssn: '1 ("b")', connections: [conn('b', { syncState: 'sync' })] }),
      { kind: 'write-object', standbys: [] },
    ],
    ['two wanted', input({ count: 2 }), { kind: 'set-ssn', value: '2 ("b","c")' }],
  ])('%s', (_n, i, want) => {
    expect(planSync(i)).toEqual(want);
  });
});

/**
 * A simulated primary: SSN as PostgreSQL runs with it (all listed members are waited for), standbys that come and
 * go, and the planner's steps applied one at a time in any interleaving with those changes. At every point, every
 * member the object lists must be one PostgreSQL waits for.
 */
describe('planSync keeps the object within what PostgreSQL waits for', () => {
  const event = fc.oneof(
    fc.record({ kind: fc.constant('step' as const) }),
    fc.record({ kind: fc.constant('toggle' as const), name: fc.constantFrom('b', 'c', 'd') }),
    fc.record({ kind: fc.constant('config' as const), enabled: fc.boolean(), strict: fc.boolean(), count: fc.integer({ min: 1, max: 3 }) }),
  );
  it('holds across random interleavings', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        let ssn = '';
        let object: string[] = [];
        let cfg = { enabled: true, strict: false, count: 1 };
        const up = new Set(['b', 'c', 'd']);
        for (const e of events) {
          if (e.kind === 'toggle') {
            if (up.has(e.name)) up.delete(e.name);
            else up.add(e.name);
          } else if (e.kind === 'config') cfg = { enabled: e.enabled, strict: e.strict, count: e.count };
          else {
            const waited = ssnMembers(ssn);
            const step = planSync({
              me: 'a',
              ...cfg,
              object: { leader: 'a', standbys: object },
              ssn,
              connections: [...up].map((n) => conn(n, { syncState: waited.includes(n) ? 'sync' : 'async' })),
              nosync: [],
              ssnChangedAt: 100n,
            });
            if (step.kind === 'write-object') object = [...step.standbys];
            if (step.kind === 'set-ssn') ssn = step.value;
          }
          const waited = ssnMembers(ssn);
          if (!object.every((n) => waited.includes(n))) return false;
        }
        return true;
      }),
      { numRuns: 2_000 },
    );
  });
});
