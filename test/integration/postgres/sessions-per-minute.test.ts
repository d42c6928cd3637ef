// How many PostgreSQL sessions a running agent opens, from PostgreSQL's own accounting (pg_stat_database.sessions,
// PostgreSQL 14+), on the leader and on a replica of a 2-member cluster of real agents at loop_wait 2 (issue 18: one
// session per SQL call cost more CPU than the agent itself). The agent keeps one local session and reuses it.
// PGHA_SESSIONS_WINDOW_SECONDS sets the sampling window (default 30; 60 for a figure per minute).
import { sleep } from '../../../agent/src/clock';
import type { HaCluster } from '../ha/ha-harness';
import { haSuite } from '../suite';

jest.setTimeout(300_000);
const windowSeconds = Number(process.env.PGHA_SESSIONS_WINDOW_SECONDS ?? 30);
let cluster: HaCluster;
haSuite('pg-sess', { scope: 'sess', size: 2, ttl: 10, dcs: { loop_wait: 2 } }, async (c) => {
  cluster = c;
  c.startAll();
  const primary = await c.writablePrimary(120_000);
  for (const m of c.members) if (m.name !== primary) await c.streaming(m.name);
});

/** Sessions ever opened to the `postgres` database; reading it opens one more (counted once that session ends). */
async function sessions(name: string): Promise<number> {
  const rows = await cluster.query<{ sessions: string }>(name, "SELECT sessions FROM pg_stat_database WHERE datname = 'postgres'");
  return Number(rows[0]!.sessions);
}

it('a running agent opens (almost) no new sessions on the leader and on a replica', async () => {
  const primary = await cluster.writablePrimary();
  const replica = cluster.members.map((m) => m.name).find((n) => n !== primary)!;
  // Past start-up (bootstrap, the first parameters and slots), into the steady state.
  await sleep(10_000);
  const before = { primary: await sessions(primary), replica: await sessions(replica) };
  await sleep(windowSeconds * 1000);
  const after = { primary: await sessions(primary), replica: await sessions(replica) };
  // The first sample's own session ended inside the window and is counted there; the agent's are the rest.
  const perMinute = (role: 'primary' | 'replica') => ((after[role] - before[role] - 1) * 60) / windowSeconds;
  console.log(
    `sessions opened by the agent over ${windowSeconds} s at loop_wait 2: leader ${after.primary - before.primary - 1} ` +
      `(${perMinute('primary').toFixed(1)}/min), replica ${after.replica - before.replica - 1} (${perMinute('replica').toFixed(1)}/min)`,
  );
  // One per call (the old behaviour) would be dozens; a reused session is opened once, and again only after a break.
  expect(perMinute('primary')).toBeLessThanOrEqual(2);
  expect(perMinute('replica')).toBeLessThanOrEqual(2);
});
