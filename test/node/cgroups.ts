import { existsSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * cgroup v1 groups of the real cluster. Every process the harness starts joins its group in every hierarchy, and so
 * do their descendants (containerd's shims, the containers runc makes under the kubelet's cgroupRoot), so teardown
 * can find and stop everything by group, even after the process that started it was killed.
 */
const ROOT = '/sys/fs/cgroup';

/** The v1 hierarchies (and the cgroup2 mirror runc also writes in hybrid mode). */
function hierarchies(): string[] {
  return readdirSync(ROOT).filter((h) => existsSync(join(ROOT, h, 'cgroup.procs')));
}

/** Creates `path` in every hierarchy; cpuset groups inherit their parent's cpus and mems so processes may join. */
export function createCgroup(path: string): void {
  for (const h of hierarchies()) {
    const parts = path.split('/').filter(Boolean);
    let dir = join(ROOT, h);
    for (const part of parts) {
      const parent = dir;
      dir = join(dir, part);
      if (existsSync(dir)) continue;
      mkdirSync(dir);
      if (h === 'cpuset') {
        for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, f), readFileSync(join(parent, f), 'utf8').trim() || '0');
      }
    }
  }
}

/** A shell prefix that moves itself into `path` in every hierarchy, then execs the command (the PID is kept). */
export function joinCgroupPrefix(path: string): string[] {
  const files = hierarchies()
    .map((h) => join(ROOT, h, path, 'cgroup.procs'))
    .join(' ');
  return ['sh', '-c', `for f in ${files}; do echo $$ > "$f" || exit 97; done; exec "$@"`, 'pgha-cgroup'];
}

function walk(dir: string, out: string[]): void {
  out.push(dir);
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name), out);
}

/** Every directory of `path`'s subtree in one hierarchy, parents first. */
function subtree(hierarchy: string, path: string): string[] {
  const top = join(ROOT, hierarchy, path);
  if (!existsSync(top)) return [];
  const out: string[] = [];
  walk(top, out);
  return out;
}

/** PIDs in `path`'s subtree (the freezer hierarchy has every process, as every process joined it). */
export function cgroupPids(path: string): number[] {
  const pids = new Set<number>();
  for (const h of hierarchies()) {
    for (const dir of subtree(h, path)) {
      try {
        for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line.trim()) pids.add(Number(line));
      } catch {
        // Removed meanwhile.
      }
    }
  }
  return [...pids];
}

function setFreezer(path: string, state: 'FROZEN' | 'THAWED'): void {
  const f = join(ROOT, 'freezer', path, 'freezer.state');
  if (existsSync(f)) writeFileSync(f, state);
}

/** Stops every process of `path` at the same instant, as a machine that crashed (the freezer is hierarchical). */
export function freezeCgroup(path: string): void {
  setFreezer(path, 'FROZEN');
}

export function thawCgroup(path: string): void {
  setFreezer(path, 'THAWED');
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Kills every process in `path`'s subtree: freeze (nothing can fork meanwhile), SIGKILL each, thaw so the kills are
 * delivered, wait until the groups are empty, then remove the groups in every hierarchy, children first.
 */
export function destroyCgroup(path: string, timeoutMs = 10_000): void {
  freezeCgroup(path);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = cgroupPids(path);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    setFreezer(path, 'THAWED');
    if (pids.length === 0) break;
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(', ')} in cgroup ${path} did not exit after SIGKILL`);
    sleepSync(50);
  }
  for (const h of hierarchies()) {
    for (const dir of subtree(h, path).reverse()) {
      for (let i = 0; ; i++) {
        try {
          if (existsSync(dir) && statSync(dir).isDirectory()) rmdirSync(dir);
          break;
        } catch (err) {
          // The kernel may still be reaping the last task; EBUSY clears within milliseconds.
          if (i > 100) throw new Error(`could not remove cgroup ${dir}: ${String(err)}`, { cause: err });
          sleepSync(20);
        }
      }
    }
  }
}

/** The cgroup (path from the hierarchy root) of the Pod with `uid` under `root`: the kubelet names it `pod<uid>`. */
export function findPodCgroup(root: string, uid: string): string | undefined {
  const want = `pod${uid}`;
  const dirs = subtree('freezer', root);
  const hit = dirs.find((d) => d.endsWith(`/${want}`));
  return hit ? hit.slice(join(ROOT, 'freezer').length) : undefined;
}
