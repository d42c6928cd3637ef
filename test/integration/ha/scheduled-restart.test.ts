// Scheduled restarts as Patroni does them: `POST /restart` with `schedule` (and conditions), `DELETE /restart`, the
// `scheduled_restart` field in GET /patroni and the Pod status, the loop restarting at the time, and Debian's
// patronictl 3.0.2 (`restart --scheduled`, `list`, `flush restart`) against real agents.
import { eventually } from '../../fixtures/cluster';
import { patronictl, type PatronictlTarget } from '../../fixtures/patronictl';
import type { HaCluster } from './ha-harness';
import { haSuite } from '../suite';

jest.setTimeout(300_000);
let cluster: HaCluster;
let primary: string;
let replica: string;
const suite = haSuite('ha-sched', { scope: 'sched', size: 2, ttl: 10 }, async (c) => {
  cluster = c;
  ({ primary, replica } = await c.startPair());
});

const target = (): PatronictlTarget => ({ scope: 'sched', namespace: suite.namespace, kubeconfig: suite.kubeconfig, context: 'c' });
const patroni = async (name: string) => JSON.parse((await cluster.api(name, 'GET', '/patroni')).text) as Record<string, unknown>;
const startedAt = async (name: string) => String((await patroni(name)).postmaster_start_time);
const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString().replace(/\.\d+Z$/, '+00:00');
const statusRestart = async (name: string) => (await cluster.statusOf(name)).scheduled_restart as Record<string, unknown> | undefined;

afterEach(async () => {
  for (const m of cluster.members) await cluster.api(m.name, 'DELETE', '/restart');
});

it("POST /restart with a schedule answers Patroni's codes; it shows in GET /patroni, the Pod status and patronictl list; DELETE cancels it", async () => {
  expect(await cluster.api(replica, 'POST', '/restart', { schedule: '2020-01-01T00:00:00+00:00' })).toEqual({
    status: 422,
    text: expect.stringMatching(/^Cannot schedule restart in the past: schedule 2020-01-01T00:00:00.000Z is before now/) as string,
  });
  expect(await cluster.api(replica, 'POST', '/restart', { schedule: 'soon+00:00' })).toEqual({
    status: 422,
    text: 'Unable to parse scheduled timestamp (schedule: "soon+00:00"). It should be in ISO 8601 format.',
  });
  expect(await cluster.api(replica, 'POST', '/restart', { schedule: '2030-01-01T00:00:00' })).toEqual({
    status: 400,
    text: 'Timezone information is mandatory for the scheduled restart (schedule: "2030-01-01T00:00:00" has none; add Z or +HH:MM)',
  });
  expect(await cluster.api(replica, 'DELETE', '/restart')).toEqual({ status: 404, text: 'no restarts are scheduled' });

  const at = inSeconds(3600);
  expect(await cluster.api(replica, 'POST', '/restart', { schedule: at, postgres_version: '99.1' })).toEqual({ status: 202, text: 'Restart scheduled' });
  expect(await cluster.api(replica, 'POST', '/restart', { schedule: inSeconds(7200) })).toEqual({ status: 409, text: 'Another restart is already scheduled' });
  expect((await patroni(replica)).scheduled_restart).toEqual({ schedule: at, postgres_version: '99.1' });
  const started = await startedAt(replica);
  expect(await eventually('the schedule in the Pod status', () => statusRestart(replica))).toEqual({
    schedule: at,
    postgres_version: '99.1',
    postmaster_start_time: started,
  });

  const list = patronictl(target(), ['list', '-f', 'json']);
  expect(list.status).toBe(0);
  const rows = JSON.parse(list.stdout) as Record<string, unknown>[];
  expect(rows.find((r) => r.Member === replica)?.['Scheduled restart']).toBe(`${at} if version < 99.1`);
  expect(rows.find((r) => r.Member === primary)?.['Scheduled restart']).toBeFalsy();

  expect(await cluster.api(replica, 'DELETE', '/restart')).toEqual({ status: 200, text: 'scheduled restart deleted' });
  expect((await patroni(replica)).scheduled_restart).toBeUndefined();
  await eventually('the schedule gone from the Pod status', async () => ((await statusRestart(replica)) === undefined ? true : undefined));
  expect(await startedAt(replica)).toBe(started);
});

it('patronictl restart --scheduled: the agent restarts PostgreSQL at that time, not before, and drops the schedule', async () => {
  const before = await startedAt(replica);
  const at = inSeconds(4);
  const r = patronictl(target(), ['restart', 'sched', replica, '--scheduled', at, '--force']);
  expect(r.stdout).toContain(`Success: restart scheduled on member ${replica}`);
  expect(r.status).toBe(0);
  const after = await eventually(
    'postgres restarted',
    async () => {
      const s = await startedAt(replica).catch(() => undefined);
      return s && s !== 'undefined' && s !== before ? s : undefined;
    },
    60_000,
  );
  expect(Date.parse(after.replace(' ', 'T'))).toBeGreaterThanOrEqual(Date.parse(at));
  expect((await patroni(replica)).scheduled_restart).toBeUndefined();
  await cluster.streaming(replica);
});

it('a scheduled restart whose conditions do not hold at its time is dropped without a restart', async () => {
  const before = await startedAt(replica);
  expect(await cluster.api(replica, 'POST', '/restart', { schedule: inSeconds(2), role: 'primary' })).toEqual({ status: 202, text: 'Restart scheduled' });
  expect((await patroni(replica)).scheduled_restart).toMatchObject({ role: 'primary' });
  await eventually('the schedule dropped', async () => ((await patroni(replica)).scheduled_restart === undefined ? true : undefined), 30_000);
  expect(await startedAt(replica)).toBe(before);
  expect(cluster.agent(replica).tail(200)).toMatch(/scheduled restart dropped.*host role mismatch/);
});

it('patronictl flush restart cancels the scheduled restarts of every member', async () => {
  for (const m of [primary, replica]) expect((await cluster.api(m, 'POST', '/restart', { schedule: inSeconds(3600) })).status).toBe(202);
  for (const m of [primary, replica]) await eventually(`${m} publishes its schedule`, () => statusRestart(m));
  const r = patronictl(target(), ['flush', 'sched', 'restart', '--force']);
  expect(r.status).toBe(0);
  for (const m of [primary, replica]) {
    expect(r.stdout).toContain(`Success: flush scheduled restart for member ${m}`);
    expect((await patroni(m)).scheduled_restart).toBeUndefined();
  }
});
