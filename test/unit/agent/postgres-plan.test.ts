import fc from 'fast-check';
import { type LocalPgFacts, type PlanInput, planPostgres } from '../../../agent/src/core/postgres-plan';

const pg = (over: Partial<LocalPgFacts> = {}): LocalPgFacts => ({
  dataDir: 'initialized',
  systemIdentifier: '7',
  running: true,
  accepting: true,
  inRecovery: true,
  upstream: 'b:5432',
  formerPrimary: false,
  ...over,
});
const input = (over: Partial<PlanInput> = {}, pgOver: Partial<LocalPgFacts> = {}): PlanInput => ({
  name: 'a',
  pg: pg(pgOver),
  leading: false,
  holder: 'b',
  leaderUpstream: 'b:5432',
  initialize: '7',
  paused: false,
  shuttingDown: false,
  usePgRewind: true,
  rewindFailed: false,
  removeDataOnRewindFailure: false,
  removeDataOnDivergedTimelines: false,
  ...over,
});

describe('planPostgres', () => {
  it.each<[string, PlanInput, string]>([
    [
      'empty data, no cluster, no leader: race to initialize',
      input(
        { holder: null, initialize: undefined, leaderUpstream: undefined },
        { dataDir: 'empty', running: false, accepting: false, systemIdentifier: undefined },
      ),
      'initialize',
    ],
    [
      'empty data, someone is initializing: wait',
      input({ holder: null, initialize: '', leaderUpstream: undefined }, { dataDir: 'missing', running: false, accepting: false, systemIdentifier: undefined }),
      'none',
    ],
    ['empty data, a leader runs: clone it', input({}, { dataDir: 'empty', running: false, accepting: false, systemIdentifier: undefined }), 'clone'],
    [
      'empty data, leader not ready yet: wait',
      input({ leaderUpstream: undefined }, { dataDir: 'empty', running: false, accepting: false, systemIdentifier: undefined }),
      'none',
    ],
    ['foreign data: refuse', input({}, { dataDir: 'foreign', running: false }), 'refuse'],
    ['another cluster: refuse', input({}, { systemIdentifier: '8', running: false }), 'refuse'],
    ['stopped, leading: start as leader', input({ leading: true, holder: 'a' }, { running: false, accepting: false }), 'start'],
    ['stopped standby, leader known: start following', input({}, { running: false, accepting: false }), 'start'],
    ['stopped former primary, new leader ready: rewind', input({}, { running: false, accepting: false, formerPrimary: true }), 'rewind'],
    [
      'stopped former primary, rewind failed: keep the data, wait for reinit',
      input({ rewindFailed: true }, { running: false, accepting: false, formerPrimary: true }),
      'none',
    ],
    [
      'stopped former primary, rewind failed, remove_data_directory_on_rewind_failure: remove data',
      input({ rewindFailed: true, removeDataOnRewindFailure: true }, { running: false, accepting: false, formerPrimary: true }),
      'remove-data',
    ],
    [
      'stopped former primary, rewind off: keep the data, wait for reinit',
      input({ usePgRewind: false }, { running: false, accepting: false, formerPrimary: true }),
      'none',
    ],
    [
      'stopped former primary, rewind off, remove_data_directory_on_diverged_timelines: remove data',
      input({ usePgRewind: false, removeDataOnDivergedTimelines: true }, { running: false, accepting: false, formerPrimary: true }),
      'remove-data',
    ],
    [
      'stopped former primary, new leader not ready: wait',
      input({ leaderUpstream: undefined }, { running: false, accepting: false, formerPrimary: true }),
      'none',
    ],
    [
      'a primary just bootstrapped, the lock not taken yet: keep it running',
      input({ holder: null, leaderUpstream: undefined, bootstrapped: true }, { inRecovery: false, upstream: undefined }),
      'none',
    ],
    ['a primary just bootstrapped, someone else holds the lock: stop it', input({ bootstrapped: true }, { inRecovery: false, upstream: undefined }), 'stop'],
    [
      'stopped former primary that just handed over, no holder yet: wait for the candidate instead of starting without one',
      input({ holder: null, leaderUpstream: undefined, awaitingSuccessor: true }, { running: false, accepting: false, formerPrimary: true }),
      'none',
    ],
    [
      'stopped former primary, no holder, no switchover under way: start as a standby (so it can race)',
      input({ holder: null, leaderUpstream: undefined }, { running: false, accepting: false, formerPrimary: true }),
      'start',
    ],
    [
      'stopped former primary that just handed over, the candidate leads: rewind',
      input({ awaitingSuccessor: true }, { running: false, accepting: false, formerPrimary: true }),
      'rewind',
    ],
    [
      'stopped former primary, no leader at all: start read-only',
      input({ holder: null, leaderUpstream: undefined }, { running: false, accepting: false, formerPrimary: true }),
      'start',
    ],
    ['starting: wait', input({}, { accepting: false }), 'none'],
    ['leading standby: promote', input({ leading: true, holder: 'a' }), 'promote'],
    ['primary without the lock: stop at once', input({}, { inRecovery: false, formerPrimary: true }), 'stop'],
    ['primary holding the lock: nothing', input({ leading: true, holder: 'a' }, { inRecovery: false }), 'none'],
    ['standby of another upstream: follow the leader', input({ leaderUpstream: 'c:5432' }), 'follow'],
    ['running former primary as standby, leader ready: stop to rewind', input({}, { formerPrimary: true }), 'stop'],
    ['streaming from the leader: nothing', input(), 'none'],
    ['paused and stopped: nothing started', input({ paused: true }, { running: false, accepting: false }), 'none'],
    ['paused primary without the lock: left running', input({ paused: true }, { inRecovery: false }), 'none'],
    ['paused leading standby: promote (manual switchover)', input({ paused: true, leading: true, holder: 'a' }), 'promote'],
    ['shutting down: nothing', input({ shuttingDown: true }, { inRecovery: false }), 'none'],
  ])('%s', (_name, i, kind) => {
    expect(planPostgres(i).kind).toBe(kind);
  });

  it('stops a primary without the lock immediately', () => {
    expect(planPostgres(input({}, { inRecovery: false }))).toMatchObject({ kind: 'stop', mode: 'immediate' });
  });
});

const arbInput: fc.Arbitrary<PlanInput> = fc.record({
  name: fc.constant('a'),
  pg: fc.record({
    dataDir: fc.constantFrom<LocalPgFacts['dataDir']>('missing', 'empty', 'initialized', 'foreign'),
    systemIdentifier: fc.option(fc.constantFrom('7', '8'), { nil: undefined }),
    running: fc.boolean(),
    accepting: fc.boolean(),
    inRecovery: fc.option(fc.boolean(), { nil: undefined }),
    upstream: fc.option(fc.constantFrom('b:1', 'c:1'), { nil: undefined }),
    formerPrimary: fc.boolean(),
  }),
  leading: fc.boolean(),
  holder: fc.constantFrom(null, 'a', 'b'),
  leaderUpstream: fc.option(fc.constantFrom('b:1', 'c:1'), { nil: undefined }),
  initialize: fc.option(fc.constantFrom('', '7', '8'), { nil: undefined }),
  paused: fc.boolean(),
  shuttingDown: fc.boolean(),
  usePgRewind: fc.boolean(),
  rewindFailed: fc.boolean(),
  removeDataOnRewindFailure: fc.boolean(),
  removeDataOnDivergedTimelines: fc.boolean(),
});

describe('planPostgres safety properties', () => {
  it('promotes only while leading', () => {
    fc.assert(fc.property(arbInput, (i) => planPostgres(i).kind !== 'promote' || i.leading));
  });

  it('never leaves a running primary without the lock accepting writes (unless paused)', () => {
    fc.assert(
      fc.property(arbInput, (i) => {
        const primaryWithoutLock = i.pg.dataDir === 'initialized' && i.pg.running && i.pg.accepting && i.pg.inRecovery === false && !i.leading;
        const mismatch = i.initialize && i.pg.systemIdentifier && i.initialize !== i.pg.systemIdentifier;
        if (!primaryWithoutLock || i.paused || i.shuttingDown || mismatch) return true;
        const step = planPostgres(i);
        return step.kind === 'stop' && step.mode === 'immediate';
      }),
    );
  });

  it('touches no data directory of another cluster or a foreign one', () => {
    fc.assert(
      fc.property(arbInput, (i) => {
        const foreign = i.pg.dataDir === 'foreign' || (!!i.initialize && !!i.pg.systemIdentifier && i.pg.systemIdentifier !== i.initialize);
        const k = planPostgres(i).kind;
        return !foreign || k === 'refuse' || k === 'none';
      }),
    );
  });

  it('removes a data directory only when the configuration allows it', () => {
    fc.assert(
      fc.property(arbInput, (i) => planPostgres(i).kind !== 'remove-data' || (i.usePgRewind ? i.removeDataOnRewindFailure : i.removeDataOnDivergedTimelines)),
    );
  });

  it('starts and stops nothing in pause', () => {
    fc.assert(fc.property(arbInput, (i) => !i.paused || !['start', 'stop', 'rewind', 'remove-data'].includes(planPostgres(i).kind)));
  });
});
