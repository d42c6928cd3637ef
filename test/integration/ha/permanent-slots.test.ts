// Permanent replication slots (`slots` in the dynamic configuration) and `ignore_slots`, with real agents and
// PostgreSQL: the leader keeps them and publishes their positions in the `slots` annotation of the leader object;
// the replicas keep them too, advanced to those positions, so the slot is there, as far along, after a failover;
// slots nobody asked for are dropped unless ignore_slots matches them; bad values are refused by name.
import { eventually } from '../../fixtures/cluster';
import type { HaCluster } from './ha-harness';
import { haSuite } from '../suite';

jest.setTimeout(300_000);
let cluster: HaCluster;
let primary: string;
let replica: string;
const suite = haSuite(
  'ha-slots',
  { scope: 'slots', size: 2, ttl: 10, dcs: { slots: { keep: { type: 'physical' } }, ignore_slots: [{ name: 'ext_kept' }] } },
  async (c) => {
    cluster = c;
    ({ primary, replica } = await c.startPair());
  },
);

interface Slot extends Record<string, unknown> {
  name: string;
  type: string;
  lsn: string | null;
}
const slotsOf = async (name: string) =>
  await cluster.query<Slot>(name, 'SELECT slot_name AS name, slot_type AS type, restart_lsn::text AS lsn FROM pg_replication_slots ORDER BY 1');
const lsnOf = async (name: string, slot: string) => {
  const rows = await cluster.query<{ n: string | null }>(name, "SELECT (restart_lsn - '0/0')::text AS n FROM pg_replication_slots WHERE slot_name = $1", [
    slot,
  ]);
  return rows[0]?.n == null ? undefined : BigInt(rows[0].n);
};
const published = async () => JSON.parse((await suite.readLock('slots'))?.metadata.annotations?.slots ?? '{}') as Record<string, number>;
const slotOfMember = (name: string) => name.replace(/-/g, '_');

it("the leader and the replica keep the permanent slot; the leader publishes its slots' positions on the leader object", async () => {
  await eventually('keep on the leader', async () => ((await slotsOf(primary)).some((s) => s.name === 'keep' && s.lsn) ? true : undefined));
  await eventually('keep on the replica', async () => ((await slotsOf(replica)).some((s) => s.name === 'keep' && s.lsn) ? true : undefined));
  const positions = await eventually('positions published', async () => {
    const p = await published();
    return p.keep !== undefined && p[slotOfMember(replica)] !== undefined ? p : undefined;
  });
  expect(Object.keys(positions).sort()).toEqual(['keep', slotOfMember(replica)].sort());
  expect(BigInt(positions.keep!)).toBe(await lsnOf(primary, 'keep'));
  // The failsafe annotation beside it is untouched (failsafe_mode is off).
  expect((await suite.readLock('slots'))?.metadata.annotations?.failsafe).toBeUndefined();
});

it("a replica advances its permanent slot to the leader's position, and after a failover the new leader has it that far along", async () => {
  // A consumer on the leader moves the slot on: write, then advance it to the current position.
  await cluster.query(primary, 'CREATE TABLE IF NOT EXISTS t (i int); INSERT INTO t SELECT generate_series(1, 1000)');
  const moved = BigInt(
    (await cluster.query<{ n: string }>(primary, "SELECT (end_lsn - '0/0')::text AS n FROM pg_replication_slot_advance('keep', pg_current_wal_lsn())"))[0]!.n,
  );
  await eventually('the position published', async () => ((await published()).keep === Number(moved) ? true : undefined));
  await eventually('the replica slot advanced', async () => (((await lsnOf(replica, 'keep')) ?? 0n) >= moved ? true : undefined), 30_000);

  await cluster.agent(primary).stop(15_000);
  const next = await cluster.writablePrimary(60_000, primary);
  expect(next).toBe(replica);
  expect((await lsnOf(next, 'keep'))!).toBeGreaterThanOrEqual(moved);
  // The new leader publishes it in turn.
  await eventually('the new leader publishes keep', async () => ((await published()).keep !== undefined ? true : undefined));
  cluster.start(primary);
  await cluster.streaming(primary, 90_000);
  [primary, replica] = [next, primary];
});

it('slots nobody asked for are dropped on every member, those ignore_slots matches are kept', async () => {
  for (const m of [primary, replica]) {
    await cluster.query(m, "SELECT pg_create_physical_replication_slot('ext_kept', true), pg_create_physical_replication_slot('stray', true)");
  }
  for (const m of [primary, replica]) {
    await eventually(`stray dropped on ${m}`, async () => ((await slotsOf(m)).some((s) => s.name === 'stray') ? undefined : true), 30_000);
    expect((await slotsOf(m)).map((s) => s.name)).toContain('ext_kept');
  }
});

it('PATCH /config refuses a logical permanent slot and a bad slot name, naming the field and value', async () => {
  expect(await cluster.api(primary, 'PATCH', '/config', { slots: { cdc: { type: 'logical', database: 'postgres', plugin: 'pgoutput' } } })).toEqual({
    status: 400,
    text: 'invalid configuration: slots.cdc: {"type":"logical","database":"postgres","plugin":"pgoutput"} is a logical slot; pgha keeps only physical permanent slots (type: physical)',
  });
  expect(await cluster.api(primary, 'PATCH', '/config', { slots: { 'Bad-Name': { type: 'physical' } } })).toEqual({
    status: 400,
    text: 'invalid configuration: slots.Bad-Name: "Bad-Name" is not a valid slot name; use lower-case letters, digits and _, at most 63 characters',
  });
  expect(await cluster.api(primary, 'PATCH', '/config', { ignore_slots: [{ nme: 'x' }] })).toEqual({
    status: 400,
    text: 'invalid configuration: ignore_slots[0].nme: unknown key; allowed: name, type, database, plugin',
  });
});
