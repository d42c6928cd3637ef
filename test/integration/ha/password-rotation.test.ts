// A rotated Secret: members read the superuser and replication passwords from files, as the toolkit mounts them, and
// the files change under running agents (in the order a kubelet may deliver them: a replica's first). Nobody may be
// locked out: the agents keep reaching their own Postgres, the primary stores the new passwords, and replicas stream
// with the new replication password once the primary has it.
import { Client } from 'pg';
import { eventually } from '../../fixtures/cluster';
import type { AgentProcess, LogLine } from '../agent/harness';
import { type HaCluster, PASSWORD } from './ha-harness';
import { haSuite } from '../suite';

jest.setTimeout(300_000);
let cluster: HaCluster;
let primary: string;
let replica: string;
haSuite('ha-pwrot', { scope: 'pwrot', size: 2, ttl: 10, passwordFiles: true }, async (c) => {
  cluster = c;
  ({ primary, replica } = await c.startPair());
});

const CHANGED = 'a password file changed; the new password is in force';
const STORED = 'set the passwords of the agent roles in the database';
const UNUSABLE = 'a password file cannot be used; keeping the password in force';

/** Connects to `name` over TCP as `user` and closes again: what a client holding `password` gets. */
async function login(name: string, user: string, password: string, replication = false): Promise<void> {
  const c = new Client({
    host: '127.0.0.1',
    port: cluster.member(name).pgPort,
    user,
    password,
    database: 'postgres',
    connectionTimeoutMillis: 3000,
    ...(replication ? { replication: 'database' } : {}),
  });
  c.on('error', () => undefined);
  await c.connect();
  await c.end();
}

/** Waits for the next log line of `agent` with `msg` (one logged after the call). */
function nextLine(agent: AgentProcess, msg: string, timeoutMs?: number): Promise<LogLine> {
  const seen = agent.lines.filter((l) => l.msg === msg).length;
  return agent.waitFor(msg, (l) => l.msg === msg && agent.lines.filter((x) => x.msg === msg).indexOf(l) >= seen, timeoutMs);
}

/** The backend of the agent's own session on `name`'s Postgres. */
async function agentBackend(name: string): Promise<number | undefined> {
  const rows = await cluster.query<{ pid: number }>(name, "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgha' AND pid <> pg_backend_pid()");
  return rows[0]?.pid;
}

/** Ends the agent's session on `name` and waits until the agent has connected again (a new backend of its own). */
async function agentReconnects(name: string): Promise<void> {
  const before = await eventually(`${name}'s agent session`, () => agentBackend(name));
  await cluster.query(name, 'SELECT pg_terminate_backend($1)', [before]);
  await eventually(`${name}'s agent connected again`, async () => {
    const now = await agentBackend(name);
    return now !== undefined && now !== before ? now : undefined;
  });
}

it('a replica whose files change first keeps its own session; the primary then stores both passwords and the replica streams with the new one', async () => {
  const next = { superuser: 'rotated su 2', replication: 'rotated repl 2' };
  const replicaRead = nextLine(cluster.agent(replica), CHANGED);
  cluster.writePasswordFiles(replica, next);
  expect((await replicaRead).roles).toEqual(['superuser', 'replication']);
  // The database (replicated from the primary) still has the old superuser password: the agent falls back to it.
  await agentReconnects(replica);
  await login(primary, 'postgres', PASSWORD);

  const stored = nextLine(cluster.agent(primary), STORED);
  cluster.writePasswordFiles(primary, next);
  expect((await stored).roles).toEqual(['superuser', 'replication']);
  await login(primary, 'postgres', next.superuser);
  await expect(login(primary, 'postgres', PASSWORD)).rejects.toMatchObject({ code: '28P01' });
  await login(primary, 'replicator', next.replication, true);
  await expect(login(primary, 'replicator', PASSWORD, true)).rejects.toMatchObject({ code: '28P01' });
  cluster.superuserPassword = next.superuser;

  // Both agents open new sessions with the new password (the replica's Postgres has it replicated).
  await agentReconnects(primary);
  await agentReconnects(replica);
  // A new replication connection (the WAL sender ended) uses the new password from the replica's password file.
  const sender = async () => (await cluster.query<{ pid: number }>(primary, "SELECT pid FROM pg_stat_replication WHERE state = 'streaming'"))[0]?.pid;
  const before = await eventually('a WAL sender', sender);
  await cluster.query(primary, 'SELECT pg_terminate_backend($1)', [before]);
  await eventually('the replica streams again, on a new connection', async () => {
    const now = await sender();
    return now !== undefined && now !== before ? now : undefined;
  });
});

it('an empty password file keeps the password in force, and says so once', async () => {
  const inForce = cluster.superuserPassword;
  const warned = nextLine(cluster.agent(primary), UNUSABLE);
  cluster.writePasswordFiles(primary, { superuser: '' });
  expect((await warned).files).toEqual([{ role: 'superuser', file: cluster.passwordFile(primary, 'superuser'), why: 'empty' }]);
  await agentReconnects(primary);
  await login(primary, 'postgres', inForce);
  // Several loops have run meanwhile (loop_wait 1): still one warning.
  expect(cluster.agent(primary).lines.filter((l) => l.msg === UNUSABLE)).toHaveLength(1);
  cluster.writePasswordFiles(primary, { superuser: inForce });
});

it('a new primary stores the passwords its files hold when the old primary never did', async () => {
  const next = { superuser: 'rotated su 3', replication: 'rotated repl 3' };
  const replicaRead = nextLine(cluster.agent(replica), CHANGED);
  cluster.writePasswordFiles(replica, next);
  await replicaRead;
  // The primary's agent stops before its own files change.
  const stored = nextLine(cluster.agent(replica), STORED, 60_000);
  await cluster.agent(primary).stop();
  expect((await stored).roles).toEqual(['superuser', 'replication']);
  await login(replica, 'postgres', next.superuser);
  await login(replica, 'replicator', next.replication, true);
});
