import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from '../log/logger';

/** A watchdog that exits unexpectedly is started again after this pause (it is the last line of defence). */
const RESTART_PAUSE_MS = 1000;

/**
 * Runs the fence watchdog (`watchdog-main.ts`) as a separate process and keeps it running. Its own process group,
 * so a signal meant for the agent (tini forwards to the agent's group) does not stop it; the agent stops it last,
 * after PostgreSQL is down and the lock released.
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
      /** @default the compiled watchdog-main.js next to this file */
      readonly script?: string;
    },
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.child || this.stopping) return;
    const script = this.props.script ?? join(__dirname, 'watchdog-main.js');
    const child = spawn(process.execPath, ['--max-old-space-size=16', script, this.props.fencePath, this.props.dataDir], {
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
