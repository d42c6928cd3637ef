import { planSlots } from '../core/slot-plan';
import { errorFields, type Logger } from '../log/logger';
import type { LocalPostgres } from '../postgres/local-postgres';
import type { KubeObject } from '../kube/object-cache';
import type { SlotConfig } from './slot-config';

export interface SlotDutiesContext {
  readonly pg: Pick<LocalPostgres, 'listSlots' | 'createSlot' | 'dropSlot' | 'advanceSlot'>;
  readonly logger: Logger;
  readonly role: 'primary' | 'replica';
  readonly ownSlot: string;
  /** On the primary: the other members' slots. */
  readonly memberSlots: readonly string[];
  readonly slots: SlotConfig;
  readonly paused: boolean;
  /** On a replica: the positions the leader published. */
  readonly leaderPositions?: Readonly<Record<string, bigint>>;
}

/**
 * Brings the local slots in line with `core/slot-plan.ts`: creates, drops, advances. Each operation that fails is
 * logged and the others still run (the next run tries again). Returns, on the primary, the positions to publish.
 */
export async function slotDuties(c: SlotDutiesContext): Promise<Record<string, bigint>> {
  const have = await c.pg.listSlots();
  const plan = planSlots({
    role: c.role,
    ownSlot: c.ownSlot,
    memberSlots: c.memberSlots,
    permanent: c.slots.permanent,
    ignore: c.slots.ignore,
    have,
    paused: c.paused,
    ...(c.leaderPositions ? { leaderPositions: c.leaderPositions } : {}),
  });
  const attempt = async (done: string, failed: string, slot: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      c.logger.info(done, { slot });
    } catch (err) {
      c.logger.warn(failed, { slot, ...errorFields(err) });
    }
  };
  for (const name of plan.conflicts) c.logger.warn('replication slot name taken by a logical slot; left alone', { slot: name });
  for (const name of plan.drop) await attempt('dropped a replication slot', 'could not drop a replication slot', name, () => c.pg.dropSlot(name));
  for (const name of plan.create) await attempt('created a replication slot', 'could not create a replication slot', name, () => c.pg.createSlot(name));
  for (const { name, lsn } of plan.advance) {
    try {
      await c.pg.advanceSlot(name, lsn);
    } catch (err) {
      c.logger.warn('could not advance a replication slot', { slot: name, to: String(lsn), ...errorFields(err) });
    }
  }
  return { ...plan.publish };
}

/** The `slots` annotation of the leader object for a lock write: `{name: position}` (Patroni's integers). */
export function slotsAnnotation(positions: Readonly<Record<string, bigint>>): string | null {
  const names = Object.keys(positions).sort();
  if (names.length === 0) return null;
  return JSON.stringify(Object.fromEntries(names.map((n) => [n, Number(positions[n])])));
}

/** The positions a leader published (Patroni's `slots` annotation); entries that are not positions are skipped. */
export function leaderSlotPositions(leader: KubeObject | undefined): Record<string, bigint> {
  const text = leader?.metadata.annotations?.slots;
  if (!text) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  const out: Record<string, bigint> = {};
  for (const [name, lsn] of Object.entries(v as Record<string, unknown>)) {
    if (typeof lsn === 'number' && Number.isSafeInteger(lsn) && lsn >= 0) out[name] = BigInt(lsn);
  }
  return out;
}
