import type { CallbackAction } from '../config/callback-actions';
import type { CallbackRole } from './callbacks';

/** Where the callbacks go: `Callbacks.fire`, or a recorder in tests. */
export type FireCallback = (action: CallbackAction, role: CallbackRole) => void;

/**
 * Turns what happened to the local PostgreSQL into Patroni's callbacks: which action, with which role. Remembers
 * the role it last reported, so a former primary started as a replica is a role change (after its stop), not a
 * start, and a server found running by an agent that has reported nothing yet (the agent restarted, a bootstrap
 * finished) gets its `on_start` once. Nothing is reported while the cluster bootstraps.
 */
export class CallbackEvents {
  private reported: CallbackRole | undefined;

  constructor(private readonly fire: FireCallback) {}

  /** The role last reported; undefined before the first callback. */
  get role(): CallbackRole | undefined {
    return this.reported;
  }

  started(role: CallbackRole): void {
    this.emit(this.reported === 'primary' && role === 'replica' ? 'on_role_change' : 'on_start', role);
  }

  promoted(): void {
    this.emit('on_role_change', 'primary');
  }

  /** A stop of a running server the agent asked for (a crash is reported by the start that follows). */
  stopped(role: CallbackRole): void {
    this.emit('on_stop', role);
  }

  restarted(role: CallbackRole): void {
    this.emit('on_restart', role);
  }

  reloaded(role: CallbackRole): void {
    this.emit('on_reload', role);
  }

  /** The server runs and no step is under way: the first such sighting is its `on_start`. */
  seenRunning(role: CallbackRole): void {
    if (this.reported === undefined) this.emit('on_start', role);
  }

  private emit(action: CallbackAction, role: CallbackRole): void {
    this.reported = role;
    this.fire(action, role);
  }
}
