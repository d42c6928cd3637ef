import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSettingsFile, setStandbySignal, writeSettingsFile } from '../../../agent/src/postgres/owned-files';
import { runTool } from '../../../agent/src/postgres/run-tool';

describe('owned files', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgha-owned-'));
    await writeFile(join(dir, 'postgresql.conf'), 'max_connections = 100\n# no newline at the end follows\nshared_buffers = 128MB');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("includes the owned directory once, after initdb's settings", async () => {
    await writeSettingsFile(dir, 'parameters', { work_mem: '4MB' }, undefined);
    await writeSettingsFile(dir, 'sync', { synchronous_standby_names: '"a"' }, undefined);
    const conf = await readFile(join(dir, 'postgresql.conf'), 'utf8');
    expect(conf.match(/include_dir = 'pgha.conf.d'/g)).toHaveLength(1);
    expect(conf.startsWith('max_connections = 100\n')).toBe(true);
    expect(conf.indexOf('shared_buffers = 128MB\n')).toBeLessThan(conf.indexOf('include_dir'));
  });

  test('reads back what it wrote, and nothing for a missing file', async () => {
    await writeSettingsFile(dir, 'parameters', { Work_Mem: '4MB', 'x.y': "it's" }, undefined);
    expect(await readSettingsFile(dir, 'parameters')).toEqual({ work_mem: '4MB', 'x.y': "it's" });
    expect(await readSettingsFile(dir, 'standby')).toEqual({});
  });

  test('writes and removes standby.signal, repeatably', async () => {
    await setStandbySignal(dir, true, undefined);
    await setStandbySignal(dir, true, undefined);
    expect(existsSync(join(dir, 'standby.signal'))).toBe(true);
    await setStandbySignal(dir, false, undefined);
    await setStandbySignal(dir, false, undefined);
    expect(existsSync(join(dir, 'standby.signal'))).toBe(false);
  });
});

describe('runTool', () => {
  test('collects output and the exit code without throwing', async () => {
    const res = await runTool({ binary: 'sh', args: ['-c', 'echo out; echo err >&2; exit 3'], cwd: tmpdir(), timeoutMs: 30_000 });
    expect(res).toEqual({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false });
  });

  test('passes only a minimal environment, so no secret of the agent leaks', async () => {
    process.env.PATRONI_SUPERUSER_PASSWORD = 'leak-me';
    try {
      const res = await runTool({ binary: 'sh', args: ['-c', 'env'], cwd: tmpdir(), env: { PGPASSFILE: '/x' }, timeoutMs: 30_000 });
      expect(res.stdout).not.toContain('leak-me');
      expect(res.stdout).toContain('PGPASSFILE=/x');
    } finally {
      delete process.env.PATRONI_SUPERUSER_PASSWORD;
    }
  });

  test('stops a tool that outlives its deadline', async () => {
    const res = await runTool({ binary: 'sleep', args: ['60'], cwd: tmpdir(), timeoutMs: 100 });
    expect(res).toMatchObject({ timedOut: true, signal: 'SIGTERM' });
  });
});
