import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { clusterNames, RUN_ROOT } from './addresses';
import { destroyCgroup } from './cgroups';
import { releaseMount } from './mount-namespace';
import { deleteNetns } from './network';
import { pidAlive } from '../control-plane/processes';

/** Who started a cluster: a test run's process (its stale clusters are removed by the next run) or the sandbox. */
export interface ClusterRegistration {
  readonly id: string;
  readonly kind: 'test' | 'sandbox' | 'bench';
  /** The process whose death makes a `test` or `bench` cluster stale. */
  readonly ownerPid: number;
  /** The cluster's work directory (removed with it unless kept). */
  readonly dir: string;
}

function registrationFile(id: string): string {
  return join(RUN_ROOT, `${id}.json`);
}

export function register(reg: ClusterRegistration): void {
  mkdirSync(RUN_ROOT, { recursive: true });
  writeFileSync(registrationFile(reg.id), JSON.stringify(reg));
}

/**
 * Removes everything cluster `id` made on the host: every process in its cgroups (containers included), its mount
 * namespaces, its network namespaces (with their links, routes and iptables rules), its private mount, and its
 * work directory unless `keepDir`.
 */
export function teardownCluster(id: string, opts: { keepDir?: boolean } = {}): void {
  const names = clusterNames(id);
  let reg: ClusterRegistration | undefined;
  try {
    reg = JSON.parse(readFileSync(registrationFile(id), 'utf8')) as ClusterRegistration;
  } catch {
    reg = undefined;
  }
  destroyCgroup(names.cgroupRoot);
  if (existsSync(names.runDir)) {
    for (const f of readdirSync(names.runDir)) if (f.endsWith('.mnt')) releaseMount(join(names.runDir, f));
    releaseMount(names.runDir);
    rmSync(names.runDir, { recursive: true, force: true });
  }
  if (existsSync('/run/netns')) {
    for (const ns of readdirSync('/run/netns')) if (ns.startsWith(`pgha-${id}-`)) deleteNetns(ns);
  }
  if (reg && !opts.keepDir) rmSync(reg.dir, { recursive: true, force: true });
  rmSync(registrationFile(id), { force: true });
}

/** Tears down clusters of test runs (and benchmarks) whose owning process is gone: a killed jest leaves its node behind. */
export function teardownStaleClusters(): string[] {
  if (!existsSync(RUN_ROOT)) return [];
  const removed: string[] = [];
  for (const f of readdirSync(RUN_ROOT)) {
    if (!f.endsWith('.json')) continue;
    try {
      const reg = JSON.parse(readFileSync(join(RUN_ROOT, f), 'utf8')) as ClusterRegistration;
      if (reg.kind !== 'sandbox' && !pidAlive(reg.ownerPid)) {
        teardownCluster(reg.id);
        removed.push(reg.id);
      }
    } catch {
      // A half-written registration of a cluster being started right now.
    }
  }
  return removed;
}
