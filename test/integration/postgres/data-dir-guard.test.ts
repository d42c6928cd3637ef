import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PostgresTestCluster, type TestMember } from '../../fixtures/postgres';

jest.setTimeout(120_000);

/** Recursively lists files with their size and mtime, to prove nothing was touched. */
async function fingerprint(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = join(e.parentPath, e.name);
    const s = await stat(p);
    out.push(`${p} ${s.size} ${s.mtimeMs}`);
  }
  return out.sort();
}

/** A data directory of another cluster, or with something else in it, is refused and left alone. */
describe('data directory guard', () => {
  let cluster: PostgresTestCluster;
  let m: TestMember;
  let sysid: string;

  beforeAll(async () => {
    cluster = await PostgresTestCluster.create();
    m = await cluster.member('guarded');
    ({ systemIdentifier: sysid } = await m.pg.bootstrap());
    await m.pg.stop('fast', 30_000);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  test('fails to start, follow, rewind or remove a data directory of another cluster, touching nothing', async () => {
    const other = '7000000000000000001';
    const before = await fingerprint(m.config.dataDir);
    const mismatch = {
      name: 'FatalError',
      message: expect.stringMatching(/another cluster \(system identifier mismatch\)/),
      details: { dataDir: m.config.dataDir, found: sysid, expected: other },
    };

    await expect(m.pg.start({ expectedSystemIdentifier: other })).rejects.toMatchObject(mismatch);
    await expect(m.pg.follow({ host: '127.0.0.1', port: 1 }, { expectedSystemIdentifier: other })).rejects.toMatchObject(mismatch);
    await expect(m.pg.rewind({ host: '127.0.0.1', port: 1 }, { expectedSystemIdentifier: other })).rejects.toMatchObject(mismatch);
    await expect(m.pg.removeData({ expectedSystemIdentifier: other })).rejects.toMatchObject(mismatch);

    expect(m.pg.pid).toBeUndefined();
    expect(await fingerprint(m.config.dataDir)).toEqual(before);
  });

  test('starts the same data directory when the identifiers match', async () => {
    await m.pg.start({ expectedSystemIdentifier: sysid });
    expect((await m.pg.snapshot()).server?.systemIdentifier).toBe(sysid);
    await m.pg.stop('fast', 30_000);
  });

  test('fails to initialize over an existing cluster', async () => {
    await expect(m.pg.bootstrap()).rejects.toMatchObject({
      name: 'FatalError',
      message: 'cannot initialize: the data directory is not empty',
      details: { found: 'initialized' },
    });
  });

  test('fails to touch a non-empty directory that holds no cluster', async () => {
    const stranger = await cluster.member('stranger');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(stranger.config.dataDir);
    await writeFile(join(stranger.config.dataDir, 'precious.txt'), 'not yours');

    await expect(stranger.pg.start()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringMatching(/holds no PostgreSQL cluster/) });
    await expect(stranger.pg.removeData()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringMatching(/holds no PostgreSQL cluster/) });
    await expect(stranger.pg.createReplica(m.upstream)).rejects.toMatchObject({ name: 'FatalError', details: { found: 'foreign' } });
    expect(await readFile(join(stranger.config.dataDir, 'precious.txt'), 'utf8')).toBe('not yours');
  });

  test('fails a bootstrap half way and leaves an empty data directory and no process', async () => {
    // Role names starting with pg_ are reserved: initdb succeeds, creating the replication role fails.
    const half = await cluster.member('half', { replicationUsername: 'pg_replicator' });
    await expect(half.pg.bootstrap()).rejects.toMatchObject({ name: 'FatalError', details: { sqlstate: '42939' } });
    expect(half.pg.pid).toBeUndefined();
    expect(half.events.map((e) => e.type)).toEqual(['started', 'exited']);
    expect(await half.pg.inspectDataDir()).toEqual({ kind: 'empty' });
  });

  test('removes its own cluster for a re-clone, keeping the directory', async () => {
    await m.pg.removeData({ expectedSystemIdentifier: sysid });
    expect(await readdir(m.config.dataDir)).toEqual([]);
    expect(await m.pg.inspectDataDir()).toEqual({ kind: 'empty' });
  });
});
