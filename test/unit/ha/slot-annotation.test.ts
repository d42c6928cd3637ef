import { leaderSlotPositions, slotsAnnotation } from '../../../agent/src/ha/slot-duties';

const leader = (slots: string | undefined) => ({ metadata: { name: 's-leader', annotations: slots === undefined ? {} : { slots } } }) as never;

describe("the leader object's slots annotation", () => {
  it("is Patroni's {name: integer position}, sorted; null (removed) when the leader keeps none", () => {
    expect(slotsAnnotation({ m_1: 300n, keep: 150n })).toBe('{"keep":150,"m_1":300}');
    expect(slotsAnnotation({})).toBeNull();
  });

  it('reads back as positions; entries that are no position are skipped, unreadable text is none', () => {
    expect(leaderSlotPositions(leader('{"keep":150,"m_1":300}'))).toEqual({ keep: 150n, m_1: 300n });
    expect(leaderSlotPositions(leader('{"keep":"0/96","neg":-1,"frac":1.5,"ok":7}'))).toEqual({ ok: 7n });
    expect(leaderSlotPositions(leader('not json'))).toEqual({});
    expect(leaderSlotPositions(leader('[1]'))).toEqual({});
    expect(leaderSlotPositions(leader(undefined))).toEqual({});
    expect(leaderSlotPositions(undefined)).toEqual({});
  });
});
