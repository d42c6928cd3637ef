import { type LocalSlot, matchesIgnore, planSlots, type SlotPlan, type SlotPlanInput } from '../../../agent/src/core/slot-plan';

const phys = (name: string, restartLsn: bigint | undefined = 100n, active = false): LocalSlot => ({ name, type: 'physical', active, restartLsn });
const logical = (name: string): LocalSlot => ({ name, type: 'logical', active: false, restartLsn: 50n, database: 'app', plugin: 'pgoutput' });

const primary: SlotPlanInput = { role: 'primary', ownSlot: 'm_0', memberSlots: ['m_1', 'm_2'], permanent: [], ignore: [], have: [], paused: false };
const replica: SlotPlanInput = { ...primary, role: 'replica', ownSlot: 'm_1', memberSlots: [] };
const empty: SlotPlan = { create: [], drop: [], advance: [], publish: {}, conflicts: [] };

describe('planSlots', () => {
  it.each<[string, SlotPlanInput, Partial<SlotPlan>]>([
    ['primary: creates the member slots it lacks', primary, { create: ['m_1', 'm_2'] }],
    [
      'primary: creates the permanent slots too, never one named as itself',
      { ...primary, permanent: ['keep', 'm_0'], have: [phys('m_1'), phys('m_2')] },
      { create: ['keep'], publish: { m_1: 100n, m_2: 100n } },
    ],
    [
      'primary: publishes every kept physical slot with its position',
      { ...primary, permanent: ['keep'], have: [phys('m_1', 300n, true), phys('m_2', 200n), phys('keep', 150n)] },
      { publish: { keep: 150n, m_1: 300n, m_2: 200n } },
    ],
    [
      'primary: drops the inactive slot of a member that is gone, keeps an active one',
      { ...primary, have: [phys('m_1'), phys('m_2'), phys('m_9'), phys('busy', 100n, true)] },
      { drop: ['m_9'], publish: { m_1: 100n, m_2: 100n } },
    ],
    [
      'primary: keeps a slot ignore_slots matches (by name)',
      { ...primary, ignore: [{ name: 'ext' }], have: [phys('m_1'), phys('m_2'), phys('ext')] },
      { publish: { m_1: 100n, m_2: 100n } },
    ],
    [
      'primary: keeps a slot ignore_slots matches (by type only)',
      { ...primary, ignore: [{ type: 'physical' }], have: [phys('m_1'), phys('m_2'), phys('ext')] },
      { publish: { m_1: 100n, m_2: 100n } },
    ],
    [
      'primary: a matcher whose other fields differ does not keep it',
      { ...primary, ignore: [{ name: 'ext', type: 'logical' }], have: [phys('m_1'), phys('m_2'), phys('ext')] },
      { drop: ['ext'], publish: { m_1: 100n, m_2: 100n } },
    ],
    ['primary: never drops logical slots', { ...primary, memberSlots: [], have: [logical('cdc')] }, {}],
    ['primary: drops nothing in pause', { ...primary, memberSlots: [], paused: true, have: [phys('old')] }, {}],
    [
      'primary: a wanted name taken by a logical slot is a conflict, left alone',
      { ...primary, memberSlots: [], permanent: ['cdc'], have: [logical('cdc')] },
      { conflicts: ['cdc'] },
    ],
    [
      'primary: a wanted slot that reserves no WAL is made again',
      { ...primary, memberSlots: [], permanent: ['keep'], have: [{ name: 'keep', type: 'physical', active: false }] },
      { drop: ['keep'] },
    ],
    [
      'replica: creates the permanent slots, not the member slots',
      { ...replica, memberSlots: ['m_0', 'm_2'], permanent: ['keep', 'm_1'] },
      { create: ['keep'] },
    ],
    [
      'replica: advances a permanent slot to the position the leader published',
      { ...replica, permanent: ['keep'], have: [phys('keep', 100n)], leaderPositions: { keep: 250n } },
      { advance: [{ name: 'keep', lsn: 250n }] },
    ],
    ['replica: never moves a slot back', { ...replica, permanent: ['keep'], have: [phys('keep', 300n)], leaderPositions: { keep: 250n } }, {}],
    ['replica: without a published position the slot stays', { ...replica, permanent: ['keep'], have: [phys('keep', 100n)] }, {}],
    [
      'replica: an active slot is not advanced under its consumer',
      { ...replica, permanent: ['keep'], have: [phys('keep', 100n, true)], leaderPositions: { keep: 250n } },
      {},
    ],
    [
      'replica: drops the slots left from when it led (the members are no longer its to keep)',
      { ...replica, permanent: ['keep'], have: [phys('keep'), phys('m_0'), phys('m_2')] },
      { drop: ['m_0', 'm_2'] },
    ],
    ['replica: keeps an ignored slot', { ...replica, ignore: [{ name: 'm_2' }], have: [phys('m_2')] }, {}],
  ])('%s', (_what, input, expected) => {
    expect(planSlots(input)).toEqual({ ...empty, ...expected });
  });
});

describe('matchesIgnore', () => {
  const slot = logical('cdc');
  it.each<[string, Parameters<typeof matchesIgnore>[1], boolean]>([
    ['no matchers', [], false],
    ['an empty matcher matches every slot', [{}], true],
    ['name, database and plugin equal', [{ name: 'cdc', database: 'app', plugin: 'pgoutput' }], true],
    ['another database', [{ name: 'cdc', database: 'other' }], false],
    ['another plugin', [{ plugin: 'wal2json' }], false],
    ['any of several', [{ name: 'x' }, { database: 'app' }], true],
  ])('%s: %p', (_what, matchers, expected) => expect(matchesIgnore(slot, matchers)).toBe(expected));
});
