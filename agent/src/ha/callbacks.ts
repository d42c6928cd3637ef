import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { CallbackAction } from '../config/callback-actions';
import { commandWords } from '../config/command-words';
import { errorFields, type Logger } from '../log/logger';

/** The role a callback is told: what the member runs as once the event is over. */
export type CallbackRole = 'primary' | 'replica';

export type CallbackCommands = Readonly<Partial<Record<CallbackAction, string>>>;

/** Output lines longer than this are cut in the log. */
const MAX_LINE = 2000;

/**
 * Runs the configured callbacks without waiting for them, as Patroni does: one at a time, a new one ending the one
 * still running (with its children, by process group); `on_reload` has a slot of its own. A callback never holds up
 * or fails an HA step: its start failure, exit status and output are logged.
 */
export class Callbacks {
  private running: ChildProcess | undefined;
  private reloading: ChildProcess | undefined;

  constructor(
    private readonly commands: CallbackCommands,
    private readonly scope: string,
    private readonly logger: Logger,
  ) {}

  fire(action: CallbackAction, role: CallbackRole): void {
    const line = this.commands[action];
    if (!line) return;
    const argv = [...commandWords(line), action, role, this.scope];
    const slot = action === 'on_reload' ? 'reloading' : 'running';
    const previous = this[slot];
    if (previous) killGroup(previous);
    this.logger.info('running callback', { action, role, command: argv });
    const child = this.start(argv, action);
    this[slot] = child;
    child?.once('exit', () => {
      if (this[slot] === child) this[slot] = undefined;
    });
  }

  /** Ends the callbacks still running (agent shutdown). */
  stop(): void {
    for (const c of [this.running, this.reloading]) if (c) killGroup(c);
  }

  private start(argv: string[], action: CallbackAction): ChildProcess | undefined {
    const startedAt = Date.now();
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      this.logger.error('callback could not be started', { action, command: argv, ...errorFields(err) });
      return undefined;
    }
    child.on('error', (err) => this.logger.error('callback could not be started', { action, command: argv, ...errorFields(err) }));
    for (const [stream, readable] of [
      ['stdout', child.stdout],
      ['stderr', child.stderr],
    ] as const) {
      if (!readable) continue;
      createInterface({ input: readable }).on('line', (text) => this.logger.info('callback output', { action, stream, line: text.slice(0, MAX_LINE) }));
    }
    child.once('exit', (code, signal) => {
      const fields = { action, code, signal, durationMs: Date.now() - startedAt };
      if (code === 0) this.logger.info('callback finished', fields);
      else this.logger.warn('callback failed', fields);
    });
    return child;
  }
}

/** SIGKILL to the callback's process group (it was started as its own group's leader). */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (err) {
    // ESRCH: gone between the check and the kill.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
