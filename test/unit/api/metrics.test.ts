import { renderMetrics } from '../../../agent/src/api/metrics';

describe('renderMetrics', () => {
  const primary = {
    state: 'running',
    role: 'primary',
    server_version: 150018,
    timeline: 3,
    xlog: { location: 67108864 },
    postmaster_start_time: '2030-01-01T00:00:00+00:00',
    dcs_last_seen: 1893456000,
    patroni: { version: '0.1.0', scope: 'demo', name: 'demo-0' },
  };

  it("emits Patroni's metric names with scope and name labels", () => {
    const text = renderMetrics({ scope: 'demo', name: 'demo-0', status: primary });
    expect(text).toContain('patroni_primary{scope="demo",name="demo-0"} 1\n');
    expect(text).toContain('patroni_replica{scope="demo",name="demo-0"} 0\n');
    expect(text).toContain('patroni_xlog_location{scope="demo",name="demo-0"} 67108864\n');
    expect(text).toContain('patroni_postgres_timeline{scope="demo",name="demo-0"} 3\n');
    expect(text).toContain('patroni_postmaster_start_time{scope="demo",name="demo-0"} 1893456000\n');
    expect(text).toContain('patroni_version{scope="demo",name="demo-0"} 100\n');
    expect(text).toContain('# TYPE patroni_primary gauge\n');
  });

  it('leaves out what is unknown instead of reporting zeros', () => {
    const text = renderMetrics({ scope: 'demo', name: 'demo-1', status: { state: 'stopped', role: 'replica' } });
    expect(text).toContain('patroni_postgres_running{scope="demo",name="demo-1"} 0\n');
    expect(text).not.toContain('patroni_xlog_location');
    expect(text).not.toContain('patroni_postgres_timeline');
  });

  it('emits pgha counters and escapes label values', () => {
    const text = renderMetrics({ scope: 'a"b', name: 'n', status: {}, counters: { loop_runs_total: { help: 'HA loop runs.', value: 42 } } });
    expect(text).toContain('# TYPE pgha_loop_runs_total counter\npgha_loop_runs_total{scope="a\\"b",name="n"} 42\n');
  });
});
