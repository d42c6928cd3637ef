/**
 * Which replication slots a member creates, drops and advances, as Patroni keeps them: on the primary a physical
 * slot per other member plus the permanent slots (`slots` in the dynamic configuration); on a replica the permanent
 * slots too, advanced to the positions the leader publishes (the `slots` annotation of the leader object), so a
 * consumer of a permanent slot finds it, not far behind, on whichever member is promoted. Slots matched by
 * `ignore_slots` are never dropped; logical slots are never touched. Pure: the caller lists the slots and applies
 * the plan.
 */

/** An `ignore_slots` entry: a slot matches when every field given equals the slot's. */
export interface SlotMatcher {
  readonly name?: string;
  readonly type?: 'physical' | 'logical';
  readonly database?: string;
  readonly plugin?: string;
}

/** A slot on the local server. */
export interface LocalSlot {
  readonly name: string;
  readonly type: 'physical' | 'logical';
  readonly active: boolean;
  readonly restartLsn?: bigint;
  readonly database?: string;
  readonly plugin?: string;
}

export interface SlotPlanInput {
  /** The member runs as the primary (holding the lock) or as a replica. */
  readonly role: 'primary' | 'replica';
  /** The slot other members would keep for this one (`slotNameForMember`): never a permanent slot here. */
  readonly ownSlot: string;
  /** On the primary: the slots of the other members. */
  readonly memberSlots: readonly string[];
  /** The permanent physical slots. */
  readonly permanent: readonly string[];
  readonly ignore: readonly SlotMatcher[];
  readonly have: readonly LocalSlot[];
  /** On a replica: the leader's published positions (`slots` annotation). @default - none known */
  readonly leaderPositions?: Readonly<Record<string, bigint>>;
  /** In pause nothing is dropped (as in Patroni). */
  readonly paused: boolean;
}

export interface SlotPlan {
  readonly create: readonly string[];
  readonly drop: readonly string[];
  readonly advance: readonly { readonly name: string; readonly lsn: bigint }[];
  /** On the primary: what to publish, every kept physical slot with its position. */
  readonly publish: Readonly<Record<string, bigint>>;
  /** Wanted names taken by a slot of another type: left alone, and reported. */
  readonly conflicts: readonly string[];
}

export function matchesIgnore(slot: LocalSlot, ignore: readonly SlotMatcher[]): boolean {
  return ignore.some(
    (m) =>
      (m.name === undefined || m.name === slot.name) &&
      (m.type === undefined || m.type === slot.type) &&
      (m.database === undefined || m.database === slot.database) &&
      (m.plugin === undefined || m.plugin === slot.plugin),
  );
}

export function planSlots(i: SlotPlanInput): SlotPlan {
  const permanent = i.permanent.filter((n) => n !== i.ownSlot);
  const want = new Set(i.role === 'primary' ? [...i.memberSlots.filter((n) => n !== i.ownSlot), ...permanent] : permanent);
  const byName = new Map(i.have.map((s) => [s.name, s]));
  const create: string[] = [];
  const drop: string[] = [];
  const advance: { name: string; lsn: bigint }[] = [];
  const conflicts: string[] = [];
  const publish: Record<string, bigint> = {};
  for (const name of [...want].sort()) {
    const s = byName.get(name);
    if (!s) create.push(name);
    else if (s.type !== 'physical') conflicts.push(name);
    else if (s.restartLsn === undefined) {
      // A physical slot that reserves no WAL (made by someone else without reserving) keeps nothing for a consumer
      // and cannot be advanced: made again, reserving.
      if (!s.active && !i.paused) drop.push(name);
    } else if (i.role === 'primary') publish[name] = s.restartLsn;
    else {
      const to = i.leaderPositions?.[name];
      if (!s.active && to !== undefined && to > s.restartLsn) advance.push({ name, lsn: to });
    }
  }
  if (!i.paused) {
    for (const s of i.have) {
      if (s.type === 'physical' && !s.active && !want.has(s.name) && !matchesIgnore(s, i.ignore)) drop.push(s.name);
    }
  }
  return { create, drop: drop.sort(), advance, publish, conflicts };
}
