import { patroniJson, positionOf, statusFields } from '../../../agent/src/ha/member-facts';
import type { PostgresSnapshot } from '../../../agent/src/postgres/local-postgres';
import type { ServerFacts } from '../../../agent/src/postgres/snapshot';

const server = (over: Partial<ServerFacts> = {}): ServerFacts => ({
  inRecovery: false,
  timeline: 2,
  checkpointTimeline: 2,
  currentLsn: 120n,
  flushLsn: 100n,
  replayPaused: false,
  systemIdentifier: '7',
  serverVersionNum: 150004,
  postmasterStartTime: new Date('2030-01-01T00:00:00Z'),
  replication: [],
  pendingRestart: [],
  ...over,
});
const snap = (s: ServerFacts): PostgresSnapshot => ({ running: true, accepting: true, server: s });
const tags = { nofailover: false, failoverPriority: 1, noloadbalance: false, nosync: false };

describe('member facts', () => {
  it('position: flush LSN on a primary, the further of received and replayed on a standby', () => {
    expect(positionOf(snap(server()))).toBe(100n);
    expect(positionOf(snap(server({ inRecovery: true, receivedLsn: 90n, replayedLsn: 80n })))).toBe(90n);
    expect(positionOf(snap(server({ inRecovery: true, receivedLsn: undefined, replayedLsn: 80n })))).toBe(80n);
    expect(positionOf({ running: false, accepting: false })).toBeUndefined();
  });

  it('Pod status fields: positions apart from the rest; tags only when set; checkpoint_after_promote while pending', () => {
    expect(statusFields({ snap: snap(server()), tags, checkpointPending: true, paused: false })).toEqual({
      positions: { xlog_location: 100 },
      other: { timeline: 2, checkpoint_after_promote: false },
    });
    expect(
      statusFields({
        snap: snap(server({ inRecovery: true, receivedLsn: 90n, replayedLsn: 80n, replicationState: 'streaming', pendingRestart: ['max_connections'] })),
        tags: { ...tags, nofailover: true },
        checkpointPending: false,
        paused: true,
      }),
    ).toEqual({
      positions: { xlog_location: 90, receive_lsn: 90, replay_lsn: 80 },
      other: {
        replication_state: 'streaming',
        timeline: 2,
        pending_restart: true,
        pending_restart_reason: { max_connections: { old_value: '', new_value: '' } },
        tags: { nofailover: true },
        pause: true,
      },
    });
  });

  it("GET /patroni: Patroni's shape for a primary", () => {
    const body = patroniJson({
      snap: snap(server()),
      state: 'running',
      role: 'primary',
      scope: 's',
      name: 'm',
      version: '0.1.0',
      dcsLastSeen: 5,
      tags,
      paused: false,
      clusterUnlocked: false,
      syncStandby: false,
    });
    expect(body).toEqual({
      state: 'running',
      role: 'primary',
      postmaster_start_time: '2030-01-01 00:00:00.000+00:00',
      server_version: 150004,
      timeline: 2,
      xlog: { location: 100 },
      database_system_identifier: '7',
      dcs_last_seen: 5,
      patroni: { version: '0.1.0', scope: 's', name: 'm' },
    });
  });

  it('GET /patroni: a stopped member shows no positions (the race does not take it for a primary)', () => {
    const body = patroniJson({
      snap: { running: false, accepting: false },
      state: 'stopped',
      role: 'replica',
      scope: 's',
      name: 'm',
      version: '0.1.0',
      dcsLastSeen: 5,
      tags,
      paused: true,
      clusterUnlocked: true,
      syncStandby: false,
    });
    expect(body).toEqual({
      state: 'stopped',
      role: 'replica',
      cluster_unlocked: true,
      pause: true,
      dcs_last_seen: 5,
      patroni: { version: '0.1.0', scope: 's', name: 'm' },
    });
  });
});
