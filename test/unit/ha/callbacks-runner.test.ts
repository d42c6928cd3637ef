// The callback runner with real processes: arguments as Patroni passes them, output and exit status logged, and one
// callback at a time (a new one ends the one still running, children included), with on_reload in a slot of its own.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../../../agent/src/clock';
import { Callbacks } from '../../../agent/src/ha/callbacks';
import type { Logger } from '../../../agent/src/log/logger';

interface Record_ {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

function memoryLogger(): Logger & { records: Record_[] } {
  const records: Record_[] = [];
  const log =
    (level: string) =>
    (msg: string, fields: Readonly<Record<string, unknown>> = {}) =>
      records.push({ level, msg, fields: { ...fields } });
  const logger = { records, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  return logger;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgha-callbacks-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function until(what: string, fn: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A script that records its arguments, prints a line and, while the file `hold` exists, keeps running (with a child of its own). */
function script(): string {
  const path = join(dir, 'cb.sh');
  writeFileSync(
    path,
    `#!/bin/sh\necho "$*" >> ${dir}/calls\necho "called $1"\nif [ -e ${dir}/hold ]; then sleep 60 & echo $! > ${dir}/child; wait; fi\necho "done $1" >> ${dir}/calls\n`,
    { mode: 0o755 },
  );
  return path;
}

const calls = () => (existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : []);

it('passes <action> <role> <scope> after the configured words, and logs output and exit', async () => {
  const logger = memoryLogger();
  const cb = new Callbacks({ on_start: `${script()} --flag` }, 'demo', logger);
  cb.fire('on_start', 'replica');
  await until('the callback to finish', () => logger.records.some((r) => r.msg === 'callback finished'));
  expect(calls()).toEqual(['--flag on_start replica demo', 'done --flag']);
  expect(logger.records.find((r) => r.msg === 'callback output')?.fields).toMatchObject({ action: 'on_start', stream: 'stdout', line: 'called --flag' });
  expect(logger.records.find((r) => r.msg === 'callback finished')?.fields).toMatchObject({ action: 'on_start', code: 0 });
});

it('runs nothing for an action without a command', () => {
  const logger = memoryLogger();
  new Callbacks({ on_start: '/bin/true' }, 'demo', logger).fire('on_stop', 'primary');
  expect(logger.records).toEqual([]);
});

it('ends a callback still running, with its children, when the next one starts; on_reload runs beside it', async () => {
  writeFileSync(join(dir, 'hold'), '');
  const logger = memoryLogger();
  const path = script();
  const cb = new Callbacks({ on_start: path, on_role_change: path, on_reload: path }, 'demo', logger);
  cb.fire('on_start', 'replica');
  await until('the first callback to hold', () => existsSync(join(dir, 'child')));
  const child = seen(Number(readFileSync(join(dir, 'child'), 'utf8')));
  rmSync(join(dir, 'child'));
  cb.fire('on_reload', 'replica');
  await until('on_reload to hold', () => existsSync(join(dir, 'child')));
  const reloadChild = seen(Number(readFileSync(join(dir, 'child'), 'utf8')));
  cb.fire('on_role_change', 'primary');
  await until('the first callback to be ended', () => logger.records.some((r) => r.msg === 'callback failed' && r.fields.action === 'on_start'));
  expect(logger.records.find((r) => r.msg === 'callback failed' && r.fields.action === 'on_start')?.fields.signal).toBe('SIGKILL');
  await until("the first callback's child to be gone", () => !running(child)).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}: /proc/${child.pid} shows ${JSON.stringify(procStat(child.pid))} (started at ${child.start})`);
  });
  // on_reload has its own slot: the role change did not end it.
  expect(running(reloadChild)).toBe(true);
  expect(calls()).toEqual(['on_start replica demo', 'on_reload replica demo', 'on_role_change primary demo']);
  cb.stop();
  await until('every callback to be ended', () => !running(reloadChild));
});

it('logs a command that cannot be started, and goes on', async () => {
  const logger = memoryLogger();
  new Callbacks({ on_stop: join(dir, 'missing') }, 'demo', logger).fire('on_stop', 'primary');
  await until('the failure logged', () => logger.records.some((r) => r.msg === 'callback could not be started'));
  expect(logger.records.find((r) => r.msg === 'callback could not be started')?.fields).toMatchObject({
    action: 'on_stop',
    error: expect.stringContaining('ENOENT'),
  });
});

/** A process as /proc shows it: its state letter and start time (clock ticks after boot), or undefined when gone. */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    // The command name (field 2) is in parentheses and may hold spaces; the fields after it are plain.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, start: rest[19]! };
  } catch {
    return undefined;
  }
}

/**
 * The process seen when the test read its PID, still running: not gone, not a zombie waiting for its reaper, and not
 * another process that got the PID since (PIDs wrap at 32768 here, and a busy machine reuses them within seconds).
 */
function running(p: { pid: number; start: string }): boolean {
  const now = procStat(p.pid);
  return now !== undefined && now.state !== 'Z' && now.start === p.start;
}

/** The process `pid`, identified by its start time, so `running` is about this one process and no later one. */
function seen(pid: number): { pid: number; start: string } {
  const s = procStat(pid);
  if (!s) throw new Error(`process ${pid} is already gone`);
  return { pid, start: s.start };
}
