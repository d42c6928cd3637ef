import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** One sample of a metric family: extra labels (besides scope and name) and the value. */
export interface MetricSample {
  readonly labels?: Readonly<Record<string, string>>;
  /** Appended to the family name (`_sum`, `_count`), for summaries. */
  readonly suffix?: string;
  readonly value: number;
}

/** A Prometheus metric family as `renderMetrics` prints it. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter' | 'summary';
  readonly samples: readonly MetricSample[];
}

/** What the agent itself knows at scrape time (its lease, its loop). */
export interface AgentGauges {
  /** Milliseconds left before this leader's lease runs out; `null` when it does not lead. */
  readonly leaseHeadroomMs: number | null;
}

/** How often the event loop's delay is sampled. */
const DELAY_SAMPLE_MS = 1000;
/** Event-loop delay is summarized over windows of this length; a scrape sees the last complete one. */
const DELAY_WINDOW_MS = 60_000;

interface Timing {
  count: number;
  sumMs: number;
}

/**
 * The agent's own metrics (`pgha_*`), beside Patroni's gauges: how long HA loop runs take, every Kubernetes API
 * request by verb and code, the leader's lease headroom and the event loop's delay. A frozen or starved agent shows
 * here before it shows as a failover.
 */
export class AgentMetrics {
  private readonly loop: Timing & { lastMs: number | null } = { count: 0, sumMs: 0, lastMs: null };
  private readonly requests = new Map<string, { verb: string; code: string; count: number }>();
  private readonly requestTimes = new Map<string, Timing>();
  private readonly delay: IntervalHistogram;
  private windowStartedAt: number;
  private lastWindow: { p99Ms: number; maxMs: number } | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {
    // A timer once a second: it catches every stall longer than a second and shorter ones in proportion to their
    // length, which is what an HA agent's delay is about. A 20 ms timer woke an idle agent fifty times a second.
    this.delay = monitorEventLoopDelay({ resolution: DELAY_SAMPLE_MS });
    this.delay.enable();
    this.windowStartedAt = now();
  }

  /** A completed HA loop run that took `durationMs`. */
  loopRun(durationMs: number): void {
    this.loop.count++;
    this.loop.sumMs += durationMs;
    this.loop.lastMs = durationMs;
  }

  /** A Kubernetes API request (the client's observer): `status` is the HTTP code, or `error` without an answer. */
  kubeRequest(method: string, status: number | 'error', durationMs: number): void {
    const verb = method.toUpperCase();
    const code = String(status);
    const key = `${verb} ${code}`;
    const counted = this.requests.get(key) ?? { verb, code, count: 0 };
    counted.count++;
    this.requests.set(key, counted);
    const t = this.requestTimes.get(verb) ?? { count: 0, sumMs: 0 };
    t.count++;
    t.sumMs += durationMs;
    this.requestTimes.set(verb, t);
  }

  /** Stops sampling the event loop (at shutdown, so the process can exit). */
  close(): void {
    this.delay.disable();
  }

  families(g: AgentGauges): MetricFamily[] {
    const seconds = (ms: number) => ms / 1000;
    const out: MetricFamily[] = [
      {
        name: 'pgha_ha_loop_duration_seconds',
        help: 'Duration of HA loop runs (observation, decision and its actions).',
        type: 'summary',
        samples: [
          { suffix: '_sum', value: seconds(this.loop.sumMs) },
          { suffix: '_count', value: this.loop.count },
        ],
      },
      {
        name: 'pgha_kubernetes_requests_total',
        help: 'Kubernetes API requests by verb and HTTP code (code "error": no answer).',
        type: 'counter',
        samples: [...this.requests.values()].map((r) => ({ labels: { verb: r.verb, code: r.code }, value: r.count })),
      },
      {
        name: 'pgha_kubernetes_request_duration_seconds',
        help: 'Duration of Kubernetes API requests by verb (watches: until the stream opened).',
        type: 'summary',
        samples: [...this.requestTimes.entries()].flatMap(([verb, t]) => [
          { labels: { verb }, suffix: '_sum', value: seconds(t.sumMs) },
          { labels: { verb }, suffix: '_count', value: t.count },
        ]),
      },
    ];
    if (this.loop.lastMs !== null)
      out.push({
        name: 'pgha_ha_loop_last_duration_seconds',
        help: 'Duration of the last HA loop run.',
        type: 'gauge',
        samples: [{ value: seconds(this.loop.lastMs) }],
      });
    if (g.leaseHeadroomMs !== null)
      out.push({
        name: 'pgha_lease_headroom_seconds',
        help: "Seconds left on this leader's lease; at 0 it stops taking writes. Only a leader reports it.",
        type: 'gauge',
        samples: [{ value: seconds(g.leaseHeadroomMs) }],
      });
    const delay = this.delayWindow();
    out.push({
      name: 'pgha_event_loop_delay_seconds',
      help: `Event-loop delay of the agent over the last ${DELAY_WINDOW_MS / 1000} s (99th percentile and maximum).`,
      type: 'gauge',
      samples: [
        { labels: { quantile: '0.99' }, value: seconds(delay.p99Ms) },
        { labels: { quantile: '1' }, value: seconds(delay.maxMs) },
      ],
    });
    return out;
  }

  /**
   * The last complete window, or the current one before the first completes. The histogram holds the intervals
   * between samples in nanoseconds; the delay is what they exceed the sampling interval by.
   */
  private delayWindow(): { p99Ms: number; maxMs: number } {
    const late = (ns: number) => Math.max(0, ns / 1e6 - DELAY_SAMPLE_MS);
    const current = () => ({ p99Ms: late(this.delay.percentile(99)), maxMs: late(this.delay.max) });
    const t = this.now();
    if (t - this.windowStartedAt >= DELAY_WINDOW_MS) {
      this.lastWindow = current();
      this.delay.reset();
      this.windowStartedAt = t;
    }
    return this.lastWindow ?? current();
  }
}
