import { leaderSubsets, sameSubsets } from '../../../agent/src/store/leader-endpoints';

const pod = { metadata: { name: 'pg-0', uid: 'u1' }, spec: { nodeName: 'n1', hostname: 'pg-0' }, status: { podIP: '192.0.2.7' } };

describe('leaderSubsets', () => {
  it('points at our Pod with the configured ports', () => {
    expect(leaderSubsets(pod, undefined, [{ name: 'postgresql', port: 5432 }], 'ns')).toEqual([
      {
        addresses: [{ ip: '192.0.2.7', hostname: 'pg-0', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'pg-0', uid: 'u1' } }],
        ports: [{ name: 'postgresql', port: 5432, protocol: 'TCP' }],
      },
    ]);
  });
  it('prefers kubernetes.pod_ip, and needs some IP', () => {
    expect(leaderSubsets(pod, '192.0.2.9', [{ port: 5432 }], 'ns')?.[0]?.addresses?.[0]?.ip).toBe('192.0.2.9');
    expect(leaderSubsets(undefined, undefined, [{ port: 5432 }], 'ns')).toBeNull();
  });
});

describe('sameSubsets', () => {
  it('ignores what does not route (resourceVersions, order) and sees what does', () => {
    const a = leaderSubsets(pod, undefined, [{ name: 'postgresql', port: 5432 }], 'ns')!;
    const withRv = [{ ...a[0], addresses: [{ ...a[0]!.addresses![0]!, targetRef: { kind: 'Pod', name: 'pg-0', resourceVersion: '9' } }] }];
    expect(sameSubsets(a, withRv)).toBe(true);
    expect(sameSubsets(a, leaderSubsets(pod, '192.0.2.8', [{ name: 'postgresql', port: 5432 }], 'ns')!)).toBe(false);
    expect(sameSubsets([], undefined)).toBe(true);
  });
});
