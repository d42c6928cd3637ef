import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../log/logger';
import { WATCHDOG_SCRIPT } from './watchdog-script';

/** A watchdog that exits unexpectedly is started again after this pause (it is the last line of defence). */
const RESTART_PAUSE_MS = 1000;

/**
 * Runs the fence watchdog (`watchdog-script.ts`, written next to the fence file) with bash as a separate process and
 * keeps it running. Its own process group, so a signal meant for the agent (tini forwards to the agent's group) does
 * not stop it; the agent stops it last, after PostgreSQL is down.
 */
export class FenceWatchdog {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly props: {
      readonly fencePath: string;
      readonly dataDir: string;
      readonly logger: Logger;
      /** @default `bash` on PATH */
      readonly bash?: string;
    },
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.child || this.stopping) return;
    const script = join(dirname(this.props.fencePath), 'fence-watchdog.sh');
    mkdirSync(dirname(script), { recursive: true });
    // Replaced whole (written aside, then renamed): a copy left by an earlier start, of any mode, never stops this one.
    writeFileSync(`${script}.tmp`, WATCHDOG_SCRIPT, { mode: 0o700 });
    renameSync(`${script}.tmp`, script);
    const child = spawn(this.props.bash ?? 'bash', [script, this.props.fencePath, this.props.dataDir, String(process.pid)], {
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    this.child = child;
    child.once('error', (err) => this.props.logger.error('could not start the fence watchdog', { error: err.message, script }));
    child.once('exit', (code, signal) => {
      this.child = undefined;
      if (this.stopping) return;
      this.props.logger.error('fence watchdog exited; starting it again', { code, signal });
      this.restartTimer = setTimeout(() => this.start(), RESTART_PAUSE_MS);
    });
    child.unref();
    this.props.logger.info('fence watchdog started', { pid: child.pid, fence: this.props.fencePath });
  }

  stop(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    try {
      this.child?.kill('SIGTERM');
    } catch {
      // Already gone.
    }
  }
}
