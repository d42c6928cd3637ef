// The fence watchdog (bash) as a real process against a stand-in postmaster: a process named postgres, leading its
// own process group with a child (a "backend"), named by postmaster.pid in a data directory. Its script is the one
// the agent writes and runs.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FenceFile } from '../../../agent/src/fence/fence-file';
import { FenceWatchdog } from '../../../agent/src/fence/watchdog-process';
import { WATCHDOG_SCRIPT } from '../../../agent/src/fence/watchdog-script';
import { silentLogger } from '../../../agent/src/log/logger';
import { sleep } from '../../../agent/src/clock';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until(what: string, fn: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

let children: ChildProcess[] = [];
let watchdog: FenceWatchdog | undefined;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** What each watchdog started here wrote on stderr. */
const stderrOf = new Map<ChildProcess, string>();

/** Starts the watchdog for this process as its agent and resolves once it watches (its first log line). */
async function startWatchdog(path: string, dataDir: string): Promise<ChildProcess> {
  const script = join(dirname(path), 'fence-watchdog.sh');
  writeFileSync(script, WATCHDOG_SCRIPT, { mode: 0o500 });
  const child = spawn('bash', [script, path, dataDir, String(process.pid)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  stderrOf.set(child, '');
  child.stderr.setEncoding('utf8').on('data', (t: string) => stderrOf.set(child, (stderrOf.get(child) ?? '') + t));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`watchdog exited with ${code}`)));
  });
  return child;
}

afterEach(() => {
  watchdog?.stop();
  watchdog = undefined;
  for (const c of children) {
    for (const target of [-c.pid!, c.pid!]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
  }
  children = [];
});

/** A stand-in postmaster (argv[0] "postgres") leading its own group, with one child of its own. */
function fakePostmaster(dataDir: string, opts: { standby?: boolean } = {}): { pid: number; backend: () => number | undefined } {
  // /proc/<pid>/comm says postgres: the executable is a copy of bash named so.
  const child = spawn(fakePostgresBinary(), ['-c', 'sleep 600 & wait'], { detached: true, stdio: 'ignore' });
  children.push(child);
  writeFileSync(join(dataDir, 'postmaster.pid'), `${child.pid}\n${dataDir}\n`);
  if (opts.standby) writeFileSync(join(dataDir, 'standby.signal'), '');
  const backend = () => {
    const r = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' });
    const pid = Number(r.stdout.trim().split('\n')[0]);
    return pid > 0 ? pid : undefined;
  };
  return { pid: child.pid!, backend };
}

let fakeBinary: string | undefined;
function fakePostgresBinary(): string {
  if (!fakeBinary) {
    const dir = mkdtempSync(join(tmpdir(), 'pgha-fence-bin-'));
    dirs.push(dir);
    fakeBinary = join(dir, 'postgres');
    copyFileSync('/bin/bash', fakeBinary);
    chmodSync(fakeBinary, 0o755);
  }
  return fakeBinary;
}

function setup(): { dataDir: string; fence: FenceFile; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pgha-fence-'));
  dirs.push(dir);
  const dataDir = join(dir, 'data');
  spawnSync('mkdir', ['-p', dataDir]);
  const path = join(dir, 'run', 'fence');
  const fence = new FenceFile({ path, monotonicMs: () => performance.now() });
  fence.init();
  return { dataDir, fence, path };
}

/** Alive and not a zombie (a killed child of ours stays a zombie until this process reaps it). */
const running = (pid: number) => alive(pid) && !/\) Z /.test(spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).stdout);

describe('fence watchdog', () => {
  it('kills the whole process group of a primary once its lease is over, never before', async () => {
    const { dataDir, fence, path } = setup();
    const pg = fakePostmaster(dataDir);
    await until('the stand-in backend', () => pg.backend() !== undefined);
    const backend = pg.backend()!;
    fence.setLease(performance.now() + 60_000);
    await startWatchdog(path, dataDir);
    // Several polls with the lease running: nothing happens.
    await sleep(1000);
    expect(running(pg.pid)).toBe(true);
    fence.setLease(performance.now() + 100);
    await until('the postmaster and its backend to be killed', () => !running(pg.pid) && !running(backend));
  });

  it('follows renewals: a lease extended in time is never fenced', async () => {
    const { dataDir, fence, path } = setup();
    const pg = fakePostmaster(dataDir);
    fence.setLease(performance.now() + 60_000);
    await startWatchdog(path, dataDir);
    for (let i = 0; i < 10; i++) {
      fence.setLease(performance.now() + 60_000);
      await sleep(100);
    }
    expect(running(pg.pid)).toBe(true);
  });

  it('leaves a standby alone, and a primary while fencing is off (bootstrap, pause)', async () => {
    const standbyDir = setup();
    const standby = fakePostmaster(standbyDir.dataDir, { standby: true });
    standbyDir.fence.setLease(null);
    await startWatchdog(standbyDir.path, standbyDir.dataDir);
    const offDir = setup();
    offDir.fence.setArmed(false);
    const primary = fakePostmaster(offDir.dataDir);
    await startWatchdog(offDir.path, offDir.dataDir);
    // A primary with an expired lease next to them shows the watchdogs are polling.
    const expiredDir = setup();
    expiredDir.fence.setLease(null);
    const expired = fakePostmaster(expiredDir.dataDir);
    await startWatchdog(expiredDir.path, expiredDir.dataDir);
    await until('the expired primary to be killed', () => !running(expired.pid));
    await sleep(500);
    expect(running(standby.pid)).toBe(true);
    expect(running(primary.pid)).toBe(true);
  });

  it('polls quietly: no postgres, or a postmaster.pid naming a process that is gone, prints nothing', async () => {
    const none = setup();
    none.fence.setLease(null);
    const quiet = await startWatchdog(none.path, none.dataDir);
    const stale = setup();
    stale.fence.setLease(null);
    writeFileSync(join(stale.dataDir, 'postmaster.pid'), '4194303\n');
    const staleDog = await startWatchdog(stale.path, stale.dataDir);
    await sleep(1000);
    expect(quiet.exitCode).toBeNull();
    expect(stderrOf.get(quiet)).toBe('');
    expect(stderrOf.get(staleDog)).toBe('');
  });

  it('starts over a script left read-only by an earlier start (a restarted container)', async () => {
    const { dataDir, path } = setup();
    writeFileSync(join(dirname(path), 'fence-watchdog.sh'), 'old', { mode: 0o500 });
    watchdog = new FenceWatchdog({ fencePath: path, dataDir, logger: silentLogger });
    watchdog.start();
    await until('the watchdog process', () => watchdog!.pid !== undefined);
  });

  it('is started again by the agent when it exits', async () => {
    const { dataDir, path } = setup();
    watchdog = new FenceWatchdog({ fencePath: path, dataDir, logger: silentLogger });
    watchdog.start();
    const first = watchdog.pid!;
    process.kill(first, 'SIGKILL');
    await until('a new watchdog process', () => watchdog!.pid !== undefined && watchdog!.pid !== first);
  });
});
