import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FatalError, TransientError } from '../errors';
import type { Logger } from './logger';
import { PostgresLogPipe } from './postgres-log';
import { childEnvironment, type SpawnWrapping, wrapCommand } from './run-as';
import { sleep } from '../clock';

/** Postgres' shutdown modes: smart waits for clients, fast disconnects them, immediate aborts (crash recovery next start). */
export type StopMode = 'smart' | 'fast' | 'immediate';

const STOP_SIGNAL: Record<StopMode, NodeJS.Signals> = { smart: 'SIGTERM', fast: 'SIGINT', immediate: 'SIGQUIT' };

/** What the supervisor reports. `expected` is false for an exit nobody asked for: a crash or an outside kill. */
export type PostmasterEvent =
  | { readonly type: 'started'; readonly pid: number }
  | { readonly type: 'exited'; readonly pid: number; readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly expected: boolean };

export interface StopResult {
  /** False when there was nothing to stop. */
  readonly wasRunning: boolean;
  /** The mode that finally stopped it: the one asked for, or a harsher one after the deadline. */
  readonly stoppedWith?: StopMode | 'kill';
}

export interface PostmasterProps extends SpawnWrapping {
  readonly binDir: string;
  readonly dataDir: string;
  /** Working directory for the process (the agent's run directory). */
  readonly cwd: string;
  readonly logger: Logger;
}

/** How often the lock file is read while waiting for Postgres to accept connections. */
const READY_POLL_MS = 100;
/** After an immediate stop misses its deadline too, SIGKILL; the kernel then needs a moment to reap. */
const KILL_GRACE_MS = 5000;

/**
 * Runs `postgres` as a child of the agent (never daemonized by pg_ctl), so its exit is seen the moment it happens and
 * reported as an event. Its output is re-emitted as JSON log records.
 */
export class Postmaster {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private stopping = false;
  private readonly listeners = new Set<(e: PostmasterEvent) => void>();
  private readonly recent: string[] = [];

  constructor(private readonly props: PostmasterProps) {}

  /** The postmaster's PID while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (e: PostmasterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Starts Postgres and waits until it accepts connections (or, for a standby without hot_standby, until it is
   * recovering). Throws TransientError if it is still starting at the deadline (it keeps running), and FatalError if
   * it exits during start-up, with the end of its log.
   */
  async start(readyTimeoutMs: number): Promise<void> {
    if (this.child) throw new FatalError('postgres is already running under this agent', { pid: this.child.pid });
    const { binDir, dataDir } = this.props;
    const argv = wrapCommand(this.props, join(binDir, 'postgres'), ['-D', dataDir]);
    this.recent.length = 0;
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: this.props.cwd,
      env: childEnvironment({}, process.env, { switchesUser: this.props.runAs !== undefined }),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: a Ctrl-C aimed at the agent must not stop the database behind the agent's back.
      detached: true,
    });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    try {
      await spawned;
    } catch (err) {
      throw new FatalError('could not start postgres', { binary: argv[0] }, { cause: err });
    }
    const pid = child.pid!;
    this.child = child;
    this.stopping = false;
    for (const [stream, name] of [
      [child.stdout, 'stdout'],
      [child.stderr, 'stderr'],
    ] as const) {
      const pipe = new PostgresLogPipe(this.recording(), name);
      stream.setEncoding('utf8').on('data', (d: string) => pipe.write(d));
      stream.on('end', () => pipe.end());
    }
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const expected = this.stopping;
        this.child = undefined;
        this.stopping = false;
        if (!expected) this.props.logger.error('postgres exited unexpectedly', { pid, code, signal });
        this.emit({ type: 'exited', pid, code, signal, expected });
        resolve();
      });
    });
    this.emit({ type: 'started', pid });
    await this.waitReady(pid, readyTimeoutMs);
  }

  /**
   * Stops Postgres with `mode`. If it has not exited within `timeoutMs`, escalates to an immediate stop, and if even
   * that hangs, to SIGKILL (its backends notice the postmaster is gone and exit by themselves).
   */
  async stop(mode: StopMode, timeoutMs: number): Promise<StopResult> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return { wasRunning: false };
    this.stopping = true;
    const steps: [StopMode | 'kill', number][] = [[mode, timeoutMs]];
    if (mode !== 'immediate') steps.push(['immediate', KILL_GRACE_MS]);
    steps.push(['kill', KILL_GRACE_MS]);
    for (const [step, waitMs] of steps) {
      if (step !== mode) this.props.logger.warn('postgres did not stop in time; escalating', { pid: child.pid, mode: step });
      try {
        child.kill(step === 'kill' ? 'SIGKILL' : STOP_SIGNAL[step]);
      } catch {
        // Already gone; `exited` settles.
      }
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([exited.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), waitMs)))]);
      clearTimeout(timer);
      if (done) return { wasRunning: true, stoppedWith: step };
    }
    throw new FatalError('postgres did not exit even after SIGKILL', { pid: child.pid });
  }

  /** Makes Postgres re-read its configuration files (SIGHUP); works while it is still starting, unlike pg_reload_conf(). */
  reload(): void {
    if (!this.child) throw new FatalError('postgres is not running under this agent; nothing to reload', { dataDir: this.props.dataDir });
    this.child.kill('SIGHUP');
  }

  /** The last lines Postgres wrote, for error messages. */
  recentLog(): string[] {
    return [...this.recent];
  }

  private async waitReady(pid: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child?.pid !== pid) {
        throw new FatalError('postgres exited during start-up', { dataDir: this.props.dataDir, log: this.recentLog() });
      }
      const status = await this.lockFileStatus(pid);
      if (status === 'ready' || status === 'standby') return;
      if (Date.now() > deadline) {
        throw new TransientError('postgres is still starting', { pid, status: status ?? 'no lock file', waitedMs: timeoutMs });
      }
      await sleep(READY_POLL_MS);
    }
  }

  /** Line 8 of postmaster.pid (`starting`, `ready`, `standby`, `stopping`) when line 1 is `pid`. */
  private async lockFileStatus(pid: number): Promise<string | undefined> {
    try {
      const lines = (await readFile(join(this.props.dataDir, 'postmaster.pid'), 'utf8')).split('\n');
      return Number(lines[0]) === pid ? lines[7]?.trim() : undefined;
    } catch {
      return undefined;
    }
  }

  private recording(): Logger {
    const keep = (fields?: Readonly<Record<string, unknown>>) => {
      if (typeof fields?.message !== 'string') return;
      this.recent.push(fields.message);
      if (this.recent.length > 20) this.recent.shift();
    };
    const l = this.props.logger;
    return {
      info: (m, f) => {
        keep(f);
        l.info(m, f);
      },
      warn: (m, f) => {
        keep(f);
        l.warn(m, f);
      },
      error: (m, f) => {
        keep(f);
        l.error(m, f);
      },
    };
  }

  private emit(e: PostmasterEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.props.logger.error('postgres event listener failed', { event: e.type, error: String(err) });
      }
    }
  }
}
