import { AgentMetrics, type MetricFamily } from '../../../agent/src/metrics/agent-metrics';

const family = (fs: MetricFamily[], name: string) => fs.find((f) => f.name === name);

describe('AgentMetrics', () => {
  let metrics: AgentMetrics;
  let now = 0;
  beforeEach(() => {
    now = 0;
    metrics = new AgentMetrics(() => now);
  });
  afterEach(() => metrics.close());

  it('counts Kubernetes requests by verb and code, and times them by verb', () => {
    metrics.kubeRequest('patch', 200, 12);
    metrics.kubeRequest('PATCH', 200, 8);
    metrics.kubeRequest('PATCH', 409, 5);
    metrics.kubeRequest('GET', 'error', 2000);
    const fs = metrics.families({ leaseHeadroomMs: null });
    expect(family(fs, 'pgha_kubernetes_requests_total')?.samples).toEqual([
      { labels: { verb: 'PATCH', code: '200' }, value: 2 },
      { labels: { verb: 'PATCH', code: '409' }, value: 1 },
      { labels: { verb: 'GET', code: 'error' }, value: 1 },
    ]);
    expect(family(fs, 'pgha_kubernetes_request_duration_seconds')?.samples).toEqual([
      { labels: { verb: 'PATCH' }, suffix: '_sum', value: 0.025 },
      { labels: { verb: 'PATCH' }, suffix: '_count', value: 3 },
      { labels: { verb: 'GET' }, suffix: '_sum', value: 2 },
      { labels: { verb: 'GET' }, suffix: '_count', value: 1 },
    ]);
  });

  it('sums loop runs and keeps the last; reports lease headroom only while leading', () => {
    expect(family(metrics.families({ leaseHeadroomMs: null }), 'pgha_ha_loop_last_duration_seconds')).toBeUndefined();
    metrics.loopRun(30);
    metrics.loopRun(50);
    const fs = metrics.families({ leaseHeadroomMs: 7500 });
    expect(family(fs, 'pgha_ha_loop_duration_seconds')?.samples).toEqual([
      { suffix: '_sum', value: 0.08 },
      { suffix: '_count', value: 2 },
    ]);
    expect(family(fs, 'pgha_ha_loop_last_duration_seconds')?.samples).toEqual([{ value: 0.05 }]);
    expect(family(fs, 'pgha_lease_headroom_seconds')?.samples).toEqual([{ value: 7.5 }]);
    expect(family(metrics.families({ leaseHeadroomMs: null }), 'pgha_lease_headroom_seconds')).toBeUndefined();
  });

  it('shows a blocked event loop in the delay gauge of the window it happened in', async () => {
    // The loop is sampled once a second, the first sample only starting the count. After it, a 1.2 s block covers
    // at least one due sample and holds it at least 0.2 s late; then let that sample be taken.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const until = performance.now() + 1200;
    while (performance.now() < until);
    await new Promise((resolve) => setTimeout(resolve, 50));
    now = 60_000;
    const max = family(metrics.families({ leaseHeadroomMs: null }), 'pgha_event_loop_delay_seconds')?.samples.find((s) => s.labels?.quantile === '1');
    expect(max?.value).toBeGreaterThanOrEqual(0.15);
  });

  it('reports an idle loop as not delayed: the sampling interval itself is no delay', async () => {
    await new Promise((resolve) => setTimeout(resolve, 2200));
    now = 60_000;
    const max = family(metrics.families({ leaseHeadroomMs: null }), 'pgha_event_loop_delay_seconds')?.samples.find((s) => s.labels?.quantile === '1');
    // Two samples taken; counting the 1 s interval as delay would show at least 1.
    expect(max?.value).toBeLessThan(0.9);
  });
});
