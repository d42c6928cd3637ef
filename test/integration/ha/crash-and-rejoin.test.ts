// What an agent crash and a killed primary leave behind, with real agents and PostgreSQL:
// - an agent killed while its PostgreSQL lives on: the fence watchdog stops that primary before another member may
//   take the lock, and a restarted agent stops a postgres it finds running before anything else;
// - a primary killed with SIGKILL comes back: crash recovery, then pg_rewind, and its data directory is kept;
// - a rewind that fails keeps the data directory and waits for reinit, unless remove_data_directory_on_rewind_failure.
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { eventually } from '../../fixtures/cluster';
import { PG_BIN_DIR } from '../../fixtures/postgres';
import { expectNoOverlap, workDir } from '../agent/harness';
import type { HaCluster } from './ha-harness';
import { haSuite, type SuiteClusterOptions } from '../suite';

jest.setTimeout(400_000);
const suite = haSuite('ha-crash');

function cluster(scope: string, opts: Partial<SuiteClusterOptions> = {}): Promise<HaCluster> {
  return suite.createCluster({ scope, size: 3, ttl: 10, ...opts });
}

async function threeStreaming(c: HaCluster): Promise<string> {
  c.start(`${c.o.scope}-0`);
  const primary = await c.writablePrimary(120_000);
  c.start(`${c.o.scope}-1`);
  c.start(`${c.o.scope}-2`);
  for (const m of c.members) if (m.name !== primary) await c.streaming(m.name, 120_000);
  return primary;
}

const at = (ts: string | undefined) => (ts ? Date.parse(ts) : Number.NaN);

it('an agent killed while its postgres runs on: the watchdog stops that primary before another member takes the lock', async () => {
  const c = await cluster('orphan', { postgresOutlivesAgent: () => true });
  const primary = await threeStreaming(c);
  const pid = (await c.postmasterPid(primary))!;
  c.agent(primary).signal('SIGKILL');
  // Poll the orphaned postmaster until it is gone, and note when.
  const goneAt = await eventually(
    'the orphaned primary to be stopped',
    async () => ((await c.postmasterPid(primary)) !== pid ? Date.now() : undefined),
    60_000,
    20,
  );
  const next = await c.writablePrimary(60_000, primary);
  const acquired = c
    .agent(next)
    .lines.filter((l) => l.msg === 'acquired the lock')
    .at(-1);
  expect(goneAt).toBeLessThan(at(acquired?.ts));
  expectNoOverlap(c.all);
});

it('a restarted agent stops a postgres it finds running on its data directory before anything else', async () => {
  const c = await cluster('stray', { postgresOutlivesAgent: () => true });
  const primary = await threeStreaming(c);
  const pid = (await c.postmasterPid(primary))!;
  c.agent(primary).signal('SIGKILL');
  await c.agent(primary).exited;
  const restarted = c.start(primary);
  const stopped = await restarted.waitFor('the stray postgres stopped', (l) => l.msg === 'stopped a postgres left running by a previous agent', 60_000);
  expect(stopped).toMatchObject({ pid, mode: 'immediate' });
  // Before anything else: before the REST API listens and before the loop's first run.
  const listening = await restarted.waitFor('the REST API', (l) => l.msg === 'REST API listening', 60_000);
  expect(restarted.lines.indexOf(stopped)).toBeLessThan(restarted.lines.indexOf(listening));
  const firstRun = await restarted.waitFor('the first loop run', (l) => l.msg === 'ha loop', 60_000);
  expect(restarted.lines.indexOf(firstRun)).toBeGreaterThan(restarted.lines.indexOf(stopped));
  expect(await c.postmasterPid(primary)).not.toBe(pid);
  await c.writablePrimary(60_000);
  expectNoOverlap(c.all);
});

it('a primary killed with SIGKILL comes back through crash recovery and pg_rewind, keeping its data directory', async () => {
  const c = await cluster('rewind');
  const old = await threeStreaming(c);
  await c.query(old, 'CREATE TABLE kept (v int)');
  c.agent(old).signal('SIGKILL');
  await c.agent(old).exited;
  const next = await c.writablePrimary(60_000, old);
  await c.query(next, 'INSERT INTO kept VALUES (1)');
  const back = c.start(old);
  await c.streaming(old, 180_000);
  expect(back.find((l) => l.msg === 'removing the data directory')).toBeUndefined();
  expect(back.find((l) => l.msg === 'rewind finished' || l.msg === 'crash recovery done before rewinding')).toBeDefined();
  expect(await c.query(old, 'SELECT v FROM kept')).toEqual([{ v: 1 }]);
  expectNoOverlap(c.all);
});

/** A bin directory like PostgreSQL's whose pg_rewind always fails (readable by PostgreSQL's own user). */
async function binDirWithBrokenRewind(): Promise<string> {
  const dir = join(workDir('bin'), 'bin');
  await chmod(dirname(dir), 0o755);
  await mkdir(dir, { mode: 0o755 });
  for (const tool of readdirSync(PG_BIN_DIR)) if (tool !== 'pg_rewind') await symlink(join(PG_BIN_DIR, tool), join(dir, tool));
  await writeFile(join(dir, 'pg_rewind'), '#!/bin/sh\necho "pg_rewind: fatal: broken on purpose by the test" >&2\nexit 1\n');
  await chmod(join(dir, 'pg_rewind'), 0o755);
  return dir;
}

it.each([
  ['keeps the data directory and waits for reinit by default', false],
  ['removes and clones it when remove_data_directory_on_rewind_failure is set', true],
])('a rewind that fails %s', async (_name, removeOnFailure) => {
  const scope = removeOnFailure ? 'rwrm' : 'rwkeep';
  const bin = await binDirWithBrokenRewind();
  const c = await cluster(scope, {
    extraFor: (name) => (name === `${scope}-0` ? { postgresql: { bin_dir: bin, remove_data_directory_on_rewind_failure: removeOnFailure } } : {}),
  });
  const old = await threeStreaming(c);
  expect(old).toBe(`${scope}-0`);
  c.agent(old).signal('SIGKILL');
  await c.agent(old).exited;
  await c.writablePrimary(60_000, old);
  const back = c.start(old);
  await back.waitFor('the failed rewind', (l) => l.msg === 'postgres step failed' && l.step === 'rewind', 120_000);
  if (removeOnFailure) {
    await back.waitFor('the data directory removed', (l) => l.msg === 'removing the data directory', 60_000);
    await c.streaming(old, 180_000);
    return;
  }
  await back.waitFor('waiting for reinit', (l) => l.msg === 'postgres step' && String(l.why).startsWith('rewind failed; waiting for reinit'), 60_000);
  expect(back.find((l) => l.msg === 'removing the data directory')).toBeUndefined();
  // The data is still there; a person asks for the re-clone.
  expect(readdirSync(c.member(old).dataDir)).toContain('PG_VERSION');
  expect((await c.api(old, 'POST', '/reinitialize', {})).status).toBe(200);
  await c.streaming(old, 180_000);
});
