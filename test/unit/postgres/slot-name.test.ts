import { isValidSlotName, slotNameForMember } from '../../../agent/src/postgres/slot-name';

describe('slotNameForMember (same mapping as Patroni)', () => {
  test.each([
    ['pgha-0', 'pgha_0'],
    ['Member.B', 'member_b'],
    ['db_1', 'db_1'],
    ['a b', 'au0032b'],
    ['x@y', 'xu0064y'],
    ['é', 'u0233'],
    ['😀', 'u128512'],
  ])('%j -> %j', (member, slot) => {
    expect(slotNameForMember(member)).toBe(slot);
    expect(isValidSlotName(slotNameForMember(member))).toBe(true);
  });

  test('cuts to 63 characters', () => {
    expect(slotNameForMember('a'.repeat(80))).toBe('a'.repeat(63));
  });

  test.each(['', 'A', 'a-b', 'a'.repeat(64)])('rejects %j as a slot name', (bad) => {
    expect(isValidSlotName(bad)).toBe(false);
  });
});
