// postgresql.pg_hba as Patroni users write it: in the dynamic configuration (PATCH /config), applied to the running
// members with a reload; a line PostgreSQL refuses leaves the rules in force as they were; a member's own
// postgresql.pg_hba wins over the dynamic one.
import { Client } from 'pg';
import { eventually } from '../../fixtures/cluster';
import { type HaCluster, PASSWORD } from './ha-harness';
import { haSuite } from '../suite';

jest.setTimeout(300_000);
const OWN = ['host all all all scram-sha-256'];
let cluster: HaCluster;
haSuite(
  'ha-hba',
  {
    scope: 'hba',
    size: 2,
    ttl: 10,
    // hba-1 has lines of its own, which the dynamic ones must not replace.
    extraFor: (name) => (name === 'hba-1' ? { postgresql: { pg_hba: OWN } } : {}),
  },
  async (c) => {
    cluster = c;
    // hba-0 first, so it bootstraps and leads.
    c.start('hba-0');
    await c.writablePrimary(120_000);
    c.start('hba-1');
  },
);

/** Whether `user` may log in to `member` over TCP (its password is right: only pg_hba.conf decides). */
async function admitted(member: string, user: string): Promise<boolean> {
  const c = new Client({
    host: '127.0.0.1',
    port: cluster.member(member).pgPort,
    user,
    password: PASSWORD,
    database: 'postgres',
    connectionTimeoutMillis: 3000,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return true;
  } catch (err) {
    if (/pg_hba\.conf rejects connection/.test(String(err))) return false;
    throw err;
  } finally {
    await c.end().catch(() => undefined);
  }
}

it("applies dynamic pg_hba lines with a reload, keeps the rules when PostgreSQL refuses a line, and lets a member's own lines win", async () => {
  const primary = await cluster.writablePrimary(120_000);
  expect(primary).toBe('hba-0');
  await cluster.streaming('hba-1');
  await cluster.query(primary, `CREATE ROLE app LOGIN PASSWORD '${PASSWORD}'`);
  await eventually(
    'app replicated',
    async () => ((await cluster.tryQuery('hba-1', "SELECT 1 FROM pg_roles WHERE rolname = 'app'"))?.length ? true : undefined),
    30_000,
    200,
  );
  expect(await admitted('hba-0', 'app')).toBe(true);

  const reject = ['host all app all reject', 'host all all all scram-sha-256'];
  expect((await cluster.api(primary, 'PATCH', '/config', { postgresql: { pg_hba: reject } })).status).toBe(200);
  await eventually('the reject rule in force', async () => ((await admitted('hba-0', 'app')) ? undefined : true), 30_000, 200);
  expect(await admitted('hba-0', 'postgres')).toBe(true);
  // The replica has lines of its own: the dynamic ones do not reach it.
  expect(await admitted('hba-1', 'app')).toBe(true);

  expect((await cluster.api(primary, 'PATCH', '/config', { postgresql: { pg_hba: ['host all all all no-such-method'] } })).status).toBe(200);
  await cluster.agent(primary).waitFor('the refusal', (l) => l.msg === 'could not apply pg_hba.conf; the previous rules stay in force', 30_000);
  expect(await admitted('hba-0', 'app')).toBe(false);
  expect(await admitted('hba-0', 'postgres')).toBe(true);

  // A line that is not one line is refused by the agent before PostgreSQL sees it: PATCH /config answers 400.
  const bad = await cluster.api(primary, 'PATCH', '/config', { postgresql: { pg_hba: ['host all all all trust\nlocal all all trust'] } });
  expect(bad.status).toBe(400);
  expect(bad.text).toContain('postgresql.pg_hba[0]');
});
