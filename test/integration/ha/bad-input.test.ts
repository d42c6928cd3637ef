// Bad input for a running cluster: a corrupt dynamic configuration, and a member whose data directory belongs to
// another cluster. Clear errors; nothing stops, no data is touched.
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { STRATEGIC_MERGE_PATCH } from '../../../agent/src/kube/kube-client';
import { eventually } from '../../fixtures/cluster';
import { PG_BIN_DIR, testRunAs } from '../../fixtures/postgres';
import type { HaCluster } from './ha-harness';
import { haSuite } from '../suite';
import { sleep } from '../../../agent/src/clock';

jest.setTimeout(300_000);
let cluster: HaCluster;
const suite = haSuite('ha-bad', { scope: 'bad', size: 2, ttl: 10, dcs: { maximum_lag_on_failover: 1048576 } }, async (c) => {
  cluster = c;
  c.startAll();
});

function setConfigAnnotation(value: string) {
  return suite.admin.request({
    method: 'PATCH',
    path: `/api/v1/namespaces/${suite.namespace}/configmaps/bad-config`,
    contentType: STRATEGIC_MERGE_PATCH,
    body: { metadata: { annotations: { config: value } } },
  });
}

function asPgUser(binary: string, args: string[]): string {
  const runAs = testRunAs();
  const prefix = runAs ? ['setpriv', `--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups', '--'] : [];
  const argv = [...prefix, join(PG_BIN_DIR, binary), ...args];
  return execFileSync(argv[0]!, argv.slice(1), { env: { PATH: process.env.PATH, LC_ALL: 'C' }, cwd: '/' }).toString();
}

const sysidOf = (dataDir: string) => /Database system identifier:\s+(\d+)/.exec(asPgUser('pg_controldata', ['-D', dataDir]))![1];

it('a corrupt config annotation is reported and ignored; the leader keeps leading; a good value applies again', async () => {
  const primary = await cluster.writablePrimary(120_000);
  await setConfigAnnotation('{"ttl": 10, not json');
  const agent = cluster.agent(primary);
  await agent.waitFor('the error', (l) => l.msg === 'dynamic configuration unreadable; keeping the last good one' && typeof l.error === 'string', 20_000);
  expect((await cluster.api(primary, 'GET', '/config')).status).toBe(502);
  expect((await cluster.api(primary, 'PATCH', '/config', { pause: true })).status).toBe(503);
  await sleep(2000);
  expect(await cluster.holder()).toBe(primary);
  expect(agent.running).toBe(true);
  // The last good value still holds (maximum_lag_on_failover from bootstrap).
  expect(JSON.parse((await cluster.api(primary, 'GET', '/patroni')).text).pause).toBeUndefined();
  await setConfigAnnotation(JSON.stringify({ maximum_lag_on_failover: 1048576, pause: true }));
  await eventually('pause applied', async () => (JSON.parse((await cluster.api(primary, 'GET', '/patroni')).text).pause === true ? true : undefined));
  await setConfigAnnotation(JSON.stringify({ maximum_lag_on_failover: 1048576 }));
});

it('a data directory from another cluster: refused with a clear error, left untouched, never cloned over', async () => {
  const primary = await cluster.writablePrimary();
  const replica = cluster.members.map((m) => m.name).find((n) => n !== primary)!;
  await cluster.streaming(replica, 90_000);
  const r = cluster.agent(replica);
  r.signal('SIGTERM');
  expect(await r.exited).toBe(0);
  const { dataDir } = cluster.member(replica);
  await rm(dataDir, { recursive: true, force: true });
  asPgUser('initdb', ['-D', dataDir, '-U', 'postgres', '--auth', 'trust', '--no-sync']);
  const foreign = sysidOf(dataDir);
  const clusterSysid = (await cluster.query<{ id: string }>(primary, 'SELECT system_identifier::text AS id FROM pg_control_system()'))[0]!.id;
  expect(foreign).not.toBe(clusterSysid);

  const again = cluster.start(replica);
  const refusal = await again.waitFor('refusal', (l) => l.msg === 'refusing to touch the data directory', 30_000);
  expect(JSON.stringify(refusal)).toMatch(/system identifier mismatch|another cluster/);
  await sleep(3000);
  expect(sysidOf(dataDir)).toBe(foreign);
  expect(await cluster.postmasterPid(replica)).toBeUndefined();
  expect(again.find((l) => l.msg === 'postgres step' && (l.step === 'clone' || l.step === 'remove-data' || l.step === 'start'))).toBeUndefined();
  expect(again.find((l) => l.msg === 'acquired the lock')).toBeUndefined();
  expect((await cluster.api(replica, 'GET', '/health')).status).toBe(503);
  expect(await cluster.holder()).toBe(primary);
});

it('PATCH and PUT /config refuse values the agent cannot apply, naming the key, the value and the rule', async () => {
  const primary = await cluster.writablePrimary();
  const before = (await cluster.api(primary, 'GET', '/config')).text;
  for (const [body, message] of [
    [{ ttl: 'abc' }, 'ttl: "abc" must be a whole number from 5 to 3600'],
    [{ ttl: -5 }, 'ttl: -5 must be a whole number from 5 to 3600'],
    [{ loop_wait: 100, retry_timeout: 100 }, 'must be at least loop_wait + 2 * retry_timeout'],
  ] as const) {
    const r = await cluster.api(primary, 'PATCH', '/config', body);
    expect(r.status).toBe(400);
    expect(r.text).toContain(message);
  }
  // JSON cannot carry 1e309 as a number the agent could store: it parses to Infinity and is refused.
  const inf = await fetch(`http://127.0.0.1:${cluster.member(primary).apiPort}/config`, { method: 'PATCH', body: '{"loop_wait":1e309}' });
  expect(inf.status).toBe(400);
  expect(await inf.text()).toContain('loop_wait: Infinity must be a whole number');
  expect((await cluster.api(primary, 'PUT', '/config', { synchronous_mode: 'sometimes' })).status).toBe(400);
  expect((await cluster.api(primary, 'GET', '/config')).text).toBe(before);
});

it('a bootstrap that keeps failing is retried on the regular schedule and gives the initialize race back each time', async () => {
  // A data directory PostgreSQL's user cannot create: initdb fails every time.
  const locked = join(suite.dir, 'locked');
  execFileSync('mkdir', ['-p', locked]);
  execFileSync('chmod', ['0555', locked]);
  const boot = await suite.createCluster({ scope: 'boot', size: 1, ttl: 10, extraFor: () => ({ postgresql: { data_dir: join(locked, 'data') } }) });
  try {
    const agent = boot.start('boot-0');
    await eventually(
      'three bootstrap attempts',
      async () => (agent.lines.filter((l) => l.msg === 'won the initialize race; bootstrapping the cluster').length >= 3 ? true : undefined),
      60_000,
      100,
    );
    // Stopped wherever it is, perhaps in the middle of a fourth attempt: it gives the race back on the way out too.
    agent.signal('SIGTERM');
    await agent.exited;
    const attempts = agent.lines.filter((l) => l.msg === 'won the initialize race; bootstrapping the cluster').map((l) => Date.parse(l.ts));
    // loop_wait is 1 s: never sooner (a retry at once would spin, writing the initialize race twice a lap).
    for (let i = 1; i < attempts.length; i++) expect(attempts[i]! - attempts[i - 1]!).toBeGreaterThanOrEqual(900);
    expect(agent.lines.filter((l) => l.msg === 'postgres step failed').length).toBeGreaterThanOrEqual(attempts.length - 1);
    // The race is given back each time: nothing is left claiming a bootstrap that no one runs.
    const cfg = await suite.admin.request<{ metadata: { annotations?: Record<string, string> } }>({
      method: 'GET',
      path: `/api/v1/namespaces/${suite.namespace}/configmaps/boot-config`,
    });
    expect(cfg.body.metadata.annotations?.initialize).toBeUndefined();
  } finally {
    await boot.stop();
  }
});

it('malformed requests to a running agent are answered and never stop it', async () => {
  const primary = await cluster.writablePrimary();
  const port = cluster.member(primary).apiPort;
  const send = (bytes: string) =>
    new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      let data = '';
      s.on('data', (d) => (data += d.toString('latin1')));
      s.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
      s.on('error', () => undefined);
      s.setTimeout(5000, () => s.destroy());
      s.end(bytes);
    });
  for (const target of ['//', '///', '//[', '/%zz', '/constructor', 'http://x/']) {
    expect(await send(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 [2-5]\d\d/);
  }
  // Not HTTP at all: Node's parser answers 400 (or just closes).
  expect(await send('\u0000garbage\r\n\r\n')).toMatch(/^(HTTP\/1\.1 400 .*|)$/);
  expect(cluster.agent(primary).running).toBe(true);
  expect((await cluster.api(primary, 'GET', '/patroni')).status).toBe(200);
});
