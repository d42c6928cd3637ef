import { clusterLabels, labelSelector, lockTimestamp, lockTuple, readLockRecord, storeLayout } from '../../../agent/src/store/layout';
import { parseMemberStatus, podStatusPatch, publishedStatus, roleLabelValue, type StatusContext } from '../../../agent/src/store/member-status';

const ctx: StatusContext = {
  connUrl: 'postgres://192.0.2.5:5432/postgres',
  apiUrl: 'http://192.0.2.5:8008/patroni',
  version: '0.1.0',
  roleLabel: 'role',
  leaderLabelValue: 'primary',
  followerLabelValue: 'replica',
  tmpRoleLabel: 'spilo-role',
};

describe('storeLayout', () => {
  it("uses Patroni's ConfigMap names by default", () => {
    expect(storeLayout('pg', false)).toEqual({ resource: 'configmaps', leader: 'pg-leader', config: 'pg-config', failover: 'pg-failover', sync: 'pg-sync' });
  });
  it('puts the lock on Endpoints <scope> in Endpoints mode', () => {
    expect(storeLayout('pg', true)).toMatchObject({ resource: 'endpoints', leader: 'pg', config: 'pg-config' });
  });
  it('selects on kubernetes.labels plus the scope label', () => {
    expect(labelSelector(clusterLabels('cluster-name', 'pg', { app: 'db' }))).toBe('app=db,cluster-name=pg');
  });
});

describe('readLockRecord', () => {
  it("reads Patroni's annotations", () => {
    const failsafe = '{"m1":"http://192.0.2.1:8008/patroni","m2":"http://192.0.2.2:8008/patroni"}';
    expect(readLockRecord({ leader: 'm1', ttl: '30', transitions: '4', acquireTime: 'x', renewTime: 'y', failsafe })).toEqual({
      holder: 'm1',
      ttlSeconds: 30,
      transitions: 4,
      acquireTime: 'x',
      renewTime: 'y',
      failsafe: { m1: 'http://192.0.2.1:8008/patroni', m2: 'http://192.0.2.2:8008/patroni' },
      problems: [],
    });
  });
  it.each(['[]', '{"m1": 1}', 'not json', 'null'])('reports a failsafe annotation %p that is not a map of names to URLs, and reads none', (failsafe) => {
    const r = readLockRecord({ leader: 'm1', failsafe });
    expect(r.failsafe).toBeNull();
    expect(r.problems).toEqual([expect.stringContaining('failsafe=')]);
  });
  it.each([
    [{ leader: '' }, null],
    [{}, null],
  ])('treats %p as no holder', (a, holder) => {
    expect(readLockRecord(a).holder).toBe(holder);
  });
  it('reports malformed values someone else wrote and falls back instead of failing', () => {
    const r = readLockRecord({ leader: 'm1', ttl: 'thirty', transitions: '-1', optime: '{' });
    expect(r.ttlSeconds).toBeNull();
    expect(r.transitions).toBe(0);
    expect(r.problems).toHaveLength(3);
  });
  it('sees any change of holder, times, ttl or transitions as a new lock value, but not of optime', () => {
    const base = { leader: 'a', renewTime: '1', ttl: '30', transitions: '1', acquireTime: '0' };
    expect(lockTuple({ ...base, optime: '5' })).toBe(lockTuple(base));
    expect(lockTuple({ ...base, renewTime: '2' })).not.toBe(lockTuple(base));
  });
  it('writes timestamps as Patroni does', () => {
    expect(lockTimestamp(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05.678000+00:00');
  });
});

describe('member status', () => {
  it.each([
    [{ state: 'running', role: 'primary' }, 'primary'],
    [{ state: 'running', role: 'replica' }, 'replica'],
    [{ state: 'stopped', role: 'replica' }, null],
  ] as const)('status %p gives role label %p, mirrored on tmp_role_label', (status, label) => {
    expect(roleLabelValue(status, ctx)).toBe(label);
    const patch = podStatusPatch(status, ctx) as { metadata: { labels: Record<string, unknown>; annotations: { status: string } } };
    expect(patch.metadata.labels).toEqual({ role: label, 'spilo-role': label });
    expect(JSON.parse(patch.metadata.annotations.status)).toEqual({
      conn_url: ctx.connUrl,
      api_url: ctx.apiUrl,
      state: status.state,
      role: status.role,
      version: '0.1.0',
    });
  });

  it('recognises exactly what it wrote, and nothing else', () => {
    const status = { state: 'running', role: 'primary' } as const;
    const patch = podStatusPatch(status, ctx) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    const pod = { metadata: { name: 'm', labels: patch.metadata.labels, annotations: patch.metadata.annotations } };
    expect(publishedStatus(pod, ctx)).toEqual(status);
    expect(publishedStatus({ metadata: { ...pod.metadata, labels: { role: 'primary' } } }, ctx)).toBe('other');
    expect(publishedStatus({ metadata: { ...pod.metadata, annotations: { status: '{not json' } } }, ctx)).toBe('other');
    expect(publishedStatus({ metadata: { name: 'm' } }, ctx)).toBe('other');
  });

  it('reads other members tolerantly: malformed JSON is no status, Patroni 3 "master" is primary', () => {
    expect(parseMemberStatus('{"state":"running","role":"master"}')).toEqual({ state: 'running', role: 'primary' });
    expect(parseMemberStatus('[1,2')).toBeNull();
    expect(parseMemberStatus('"running"')).toBeNull();
    expect(parseMemberStatus(undefined)).toBeNull();
  });
});
