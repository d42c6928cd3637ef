import type { CallbackAction } from '../../../agent/src/config/callback-actions';
import { CallbackEvents } from '../../../agent/src/ha/callback-events';
import type { CallbackRole } from '../../../agent/src/ha/callbacks';

function recorder(): { events: CallbackEvents; fired: string[] } {
  const fired: string[] = [];
  const events = new CallbackEvents((action: CallbackAction, role: CallbackRole) => fired.push(`${action} ${role}`));
  return { events, fired };
}

describe('the callbacks Patroni runs for what happened to the local PostgreSQL', () => {
  it('a replica that starts, reloads and restarts', () => {
    const { events, fired } = recorder();
    events.started('replica');
    events.reloaded('replica');
    events.restarted('replica');
    expect(fired).toEqual(['on_start replica', 'on_reload replica', 'on_restart replica']);
  });

  it('a switchover: the old primary stops, then starts again as a replica (a role change); the new one is promoted', () => {
    const old = recorder();
    old.events.seenRunning('primary');
    old.events.stopped('primary');
    old.events.started('replica');
    expect(old.fired).toEqual(['on_start primary', 'on_stop primary', 'on_role_change replica']);
    const next = recorder();
    next.events.started('replica');
    next.events.promoted();
    expect(next.fired).toEqual(['on_start replica', 'on_role_change primary']);
  });

  it('a server found running gets its on_start once, and only when nothing was reported before', () => {
    const { events, fired } = recorder();
    events.seenRunning('primary');
    events.seenRunning('primary');
    events.started('primary');
    events.seenRunning('primary');
    expect(fired).toEqual(['on_start primary', 'on_start primary']);
    const replica = recorder();
    replica.events.started('replica');
    replica.events.seenRunning('replica');
    expect(replica.fired).toEqual(['on_start replica']);
  });

  it('a primary that crashed and is started again as primary: a start, not a role change', () => {
    const { events, fired } = recorder();
    events.seenRunning('primary');
    events.started('primary');
    expect(fired).toEqual(['on_start primary', 'on_start primary']);
  });
});
