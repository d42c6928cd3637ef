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

  it("emits the agent's own families with their labels, and escapes label values", () => {
    const text = renderMetrics({
      scope: 'a"b',
      name: 'n',
      status: {},
      families: [
        { name: 'pgha_kubernetes_requests_total', help: 'Requests.', type: 'counter', samples: [{ labels: { verb: 'PATCH', code: '409' }, value: 3 }] },
        { name: 'pgha_ha_loop_duration_seconds', help: 'Runs.', type: 'summary', samples: [{ suffix: '_count', value: 42 }] },
      ],
    });
    expect(text).toContain('# TYPE pgha_kubernetes_requests_total counter\npgha_kubernetes_requests_total{scope="a\\"b",name="n",verb="PATCH",code="409"} 3\n');
    expect(text).toContain('# TYPE pgha_ha_loop_duration_seconds summary\npgha_ha_loop_duration_seconds_count{scope="a\\"b",name="n"} 42\n');
  });

  it("reports a streaming replica and a failsafe leader under Patroni's names", () => {
    const replica = renderMetrics({ scope: 'd', name: 'r', status: { role: 'replica', replication_state: 'streaming' } });
    expect(replica).toContain('patroni_postgres_streaming{scope="d",name="r"} 1\n');
    expect(replica).toContain('patroni_postgres_in_archive_recovery{scope="d",name="r"} 0\n');
    const leader = renderMetrics({ scope: 'd', name: 'l', status: { role: 'primary', failsafe_mode_is_active: true } });
    expect(leader).toContain('patroni_postgres_streaming{scope="d",name="l"} 0\n');
    expect(leader).toContain('patroni_failsafe_mode_is_active{scope="d",name="l"} 1\n');
  });
});
