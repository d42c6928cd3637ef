// The agent's one reused session to its local Postgres (issue 18): reuse, reconnect after a restart or a terminated
// backend, timeouts and errors that close it, calls that never interleave, and stops it does not hold up.
import type { Client } from 'pg';
import { sleep } from '../../../agent/src/clock';
import { TransientError } from '../../../agent/src/errors';
import { parseListen } from '../../../agent/src/postgres/settings';
import { LocalSession, type LocalSessionOptions } from '../../../agent/src/postgres/session';
import { PostgresTestCluster, query, type TestMember } from '../../fixtures/postgres';

jest.setTimeout(120_000);

let cluster: PostgresTestCluster;
let m: TestMember;
const sessions: LocalSession[] = [];

beforeAll(async () => {
  cluster = await PostgresTestCluster.create();
  m = await cluster.member('solo');
  await m.pg.bootstrap();
});

afterEach(() => {
  for (const s of sessions.splice(0)) s.close('test done');
});

afterAll(async () => {
  await cluster?.stop();
});

/** A session of its own on the member's socket, as LocalPostgres makes one. */
function session(opts: LocalSessionOptions = {}): LocalSession {
  const { username, password } = m.config.superuser;
  const conn = { socketDir: m.runDir, port: parseListen(m.config.listen).port, superuser: username, passwords: () => [password] };
  const s = new LocalSession(conn, m.logger, opts);
  sessions.push(s);
  return s;
}

const backendPid = async (c: Client) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

/** Sessions ever opened to `postgres` (pg_stat_database counts a session once it has flushed its statistics). */
async function sessionsOpened(): Promise<number> {
  const rows = await query<{ n: string }>(m, "SELECT sessions AS n FROM pg_stat_database WHERE datname = 'postgres'");
  return Number(rows[0]!.n);
}

/** The backends of the agent's sessions (application_name pgha). */
async function agentBackends(): Promise<number[]> {
  return (await query<{ pid: number }>(m, "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgha' ORDER BY pid")).map((r) => r.pid);
}

test('LocalPostgres reuses one session for its routine calls: the session count does not grow with calls', async () => {
  await m.pg.snapshot();
  const backends = await agentBackends();
  expect(backends).toHaveLength(1);
  const before = await sessionsOpened();
  for (let i = 0; i < 20; i++) {
    expect(await m.pg.snapshot()).toMatchObject({ accepting: true });
    await m.pg.listSlots();
    await m.pg.getSynchronousStandbyNames();
  }
  // Only the two counting sessions of the test itself (the first is counted once it has ended).
  expect((await sessionsOpened()) - before).toBeLessThanOrEqual(2);
  expect(await agentBackends()).toEqual(backends);
});

test('after a restart the next call connects again, and the stop was not held up by the session', async () => {
  await m.pg.snapshot();
  const [old] = await agentBackends();
  // A smart stop waits for every client: it finishes only because the agent closes its own session first.
  const stopped = await m.pg.stop('smart', 20_000);
  await m.pg.start();
  expect(stopped).toEqual({ wasRunning: true, stoppedWith: 'smart' });
  expect(await m.pg.snapshot()).toMatchObject({ running: true, accepting: true });
  const now = await agentBackends();
  expect(now).toHaveLength(1);
  expect(now[0]).not.toBe(old);
});

test('a backend the server ends (pg_terminate_backend) is replaced by the next call', async () => {
  const s = session();
  const first = await s.run('test', backendPid);
  await query(m, 'SELECT pg_terminate_backend($1)', [first]);
  // The client reads the server's FATAL message as soon as the backend exits.
  for (let i = 0; i < 100 && (await agentBackends()).includes(first); i++) await sleep(20);
  await sleep(100);
  const second = await s.run('test', backendPid);
  expect(second).not.toBe(first);
  expect(s.opened).toBe(2);
  expect(m.logger.records).toContainEqual(expect.objectContaining({ msg: 'postgres ended the agent session; the next call opens a new one' }));
});

test('a statement past the statement timeout fails as a TransientError and closes the session', async () => {
  const s = session({ statementTimeoutMs: 200 });
  const first = await s.run('test', backendPid);
  const err = await s.run('sleeping', (c) => c.query('SELECT pg_sleep(5)')).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TransientError);
  expect(err).toMatchObject({ details: { operation: 'sleeping', sqlstate: '57014' } });
  expect(await s.run('test', backendPid)).not.toBe(first);
  expect(s.opened).toBe(2);
});

test('a call past the client-side deadline (a server that does not answer) fails and closes the session', async () => {
  const s = session({ callDeadlineMs: 300 });
  const first = await s.run('test', backendPid);
  const started = Date.now();
  const err = await s.run('waiting', (c) => c.query('SELECT pg_sleep(3)')).catch((e: unknown) => e);
  expect(Date.now() - started).toBeLessThan(5000);
  expect(err).toBeInstanceOf(TransientError);
  expect((err as Error).message).toBe('postgres waiting did not finish in time');
  expect(await s.run('test', backendPid)).not.toBe(first);
  // The cut backend goes away (once its sleep ends and it finds the socket closed).
  for (let i = 0; i < 100 && (await agentBackends()).includes(first); i++) await sleep(200);
  expect(await agentBackends()).not.toContain(first);
});

test('concurrent calls run one after the other, each transaction alone on the session', async () => {
  const s = session();
  const order: string[] = [];
  const call = (name: string) =>
    s.run(name, async (c) => {
      order.push(`${name} begins in state ${c.getTransactionStatus()}`);
      await c.query('BEGIN');
      const xact = (await c.query<{ t: string }>('SELECT now()::text AS t')).rows[0]!.t;
      await sleep(100);
      order.push(`${name} commits`);
      await c.query('COMMIT');
      return xact;
    });
  const stamps = await Promise.all([call('a'), call('b'), call('c')]);
  expect(order).toEqual(['a begins in state I', 'a commits', 'b begins in state I', 'b commits', 'c begins in state I', 'c commits']);
  // Three transactions of their own (now() is the transaction's start).
  expect(new Set(stamps).size).toBe(3);
  expect(s.opened).toBe(1);
});

test('a call that fails or returns inside a transaction closes the session; the next call starts clean', async () => {
  const s = session();
  const first = await s.run('test', backendPid);
  await expect(
    s.run('failing', async (c) => {
      await c.query('BEGIN');
      await c.query('SELECT 1/0');
    }),
  ).rejects.toMatchObject({ details: { operation: 'failing', sqlstate: '22012' } });
  const second = await s.run('test', async (c) => ({ pid: await backendPid(c), state: c.getTransactionStatus() }));
  expect(second.pid).not.toBe(first);
  expect(second.state).toBe('I');
  await s.run('leaving a transaction open', (c) => c.query('BEGIN'));
  expect(await s.run('test', backendPid)).not.toBe(second.pid);
  expect(s.opened).toBe(3);
});

test('with postgres down a call fails as a TransientError naming the connection; once it is up the same session works', async () => {
  const s = session();
  await m.pg.stop('fast', 20_000);
  try {
    await expect(s.run('reading', (c) => c.query('SELECT 1'))).rejects.toThrow(new TransientError('postgres connection for reading failed', {}));
  } finally {
    await m.pg.start();
  }
  expect(await s.run('reading', async (c) => (await c.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one)).toBe(1);
});
