// Property tests of the safety rules: random snapshots never make `decide` break a rule, and a simulated cluster
// of nodes running the real `decide` against a conditional-write store, with arbitrary delays, lost answers and
// stale views, never has two nodes acting as leader at the same moment.
import fc from 'fast-check';
import type { Action } from '../../../agent/src/core/actions';
import { decide } from '../../../agent/src/core/decide';
import { violations } from '../../../agent/src/core/invariants';
import { leaseCappedByWrite, leaseDeadlineAfterWrite } from '../../../agent/src/core/lease';
import type { CoreConfig, LockView, Observation } from '../../../agent/src/core/model';

const status = fc.constantFrom<Observation['self']['published']>(
  null,
  'other',
  { state: 'running', role: 'primary' },
  { state: 'running', role: 'replica' },
  { state: 'stopped', role: 'replica' },
);

const observation: fc.Arbitrary<Observation> = fc
  .record({
    now: fc.integer({ min: 0, max: 200_000 }),
    storeReady: fc.boolean(),
    version: fc.option(fc.integer({ min: 1, max: 50 }).map(String)),
    holder: fc.option(fc.constantFrom('a', 'b', 'c')),
    ttlMs: fc.integer({ min: 5_000, max: 60_000 }),
    transitions: fc.nat(10),
    observedAt: fc.integer({ min: 0, max: 200_000 }),
    healthy: fc.boolean(),
    nofailover: fc.boolean(),
    leaseDeadline: fc.option(fc.integer({ min: 0, max: 200_000 })),
    lastRenewAt: fc.option(fc.integer({ min: 0, max: 200_000 })),
    shuttingDown: fc.boolean(),
    stopped: fc.boolean(),
    published: status,
  })
  .map((r) => ({
    now: r.now,
    storeReady: r.storeReady,
    lock: {
      version: r.version,
      holder: r.version === null ? null : r.holder,
      ttlMs: r.ttlMs,
      transitions: r.transitions,
      acquireTime: null,
      observedAt: r.observedAt,
    },
    members: [],
    self: {
      name: 'a',
      healthy: r.healthy,
      nofailover: r.nofailover,
      leaseDeadline: r.leaseDeadline,
      lastRenewAt: r.lastRenewAt,
      shuttingDown: r.shuttingDown,
      stopped: r.stopped,
      published: r.published,
    },
  }));

describe('safety rules', () => {
  it('decide never breaks a rule, whatever it observes', () => {
    fc.assert(
      fc.property(observation, fc.integer({ min: 1_000, max: 20_000 }), (o, loopWaitMs) => {
        const d = decide(o, { ttlMs: 30_000, loopWaitMs });
        expect(violations(o, d)).toEqual([]);
        expect(d.nextCheckAt).toBeGreaterThanOrEqual(o.now);
      }),
      { numRuns: 5_000 },
    );
  });

  it('fails a decision that renews after the lease deadline', () => {
    const o: Observation = {
      now: 10,
      storeReady: true,
      lock: { version: '1', holder: 'a', ttlMs: 30_000, transitions: 0, acquireTime: null, observedAt: 0 },
      members: [],
      self: { name: 'a', healthy: true, nofailover: false, leaseDeadline: 10, lastRenewAt: 0, shuttingDown: false, stopped: false, published: null },
    };
    const bad = {
      actions: [{ type: 'renew', basis: { version: '1', holder: 'a', transitions: 0, acquireTime: null } } as Action],
      reason: 'x',
      nextCheckAt: 10,
    };
    expect(violations(o, bad).map((v) => v.rule)).toEqual(expect.arrayContaining(['renewOnlyWhileLeading', 'neverLeadAfterDeadline']));
  });
});

// ---- simulation ----

interface Stored {
  version: number;
  exists: boolean;
  holder: string | null;
  ttlMs: number;
  transitions: number;
  renewSeq: number;
}

interface SimNode {
  name: string;
  view: Stored | null;
  observedAt: number;
  leaseDeadline: number | null;
  lastRenewAt: number | null;
  busy: boolean;
  acting: { from: number; to: number } | null;
  intervals: { from: number; to: number }[];
}

type SimEvent =
  | { at: number; kind: 'tick'; node: number }
  | { at: number; kind: 'land'; node: number; action: Action; startedAt: number; ttlMs: number }
  | { at: number; kind: 'answer'; node: number; action: Action; startedAt: number; ttlMs: number; ok: boolean }
  | { at: number; kind: 'deliver'; node: number; value: Stored };

interface SimOptions {
  /** The ttl in force (the dynamic configuration) at time t; each write carries the one in force when it starts. */
  readonly ttlAt?: (t: number) => number;
  /**
   * How a node's lease follows its writes. `real`: the agent's rule (capped when a write starts, set when it lands).
   * `keep-longest`: the old, wrong rule (the longest deadline ever confirmed), to show the test can tell them apart.
   */
  readonly leaseRule?: 'real' | 'keep-longest';
}

function simulate(random: () => number, nodeCount: number, config: CoreConfig, durationMs: number, opts: SimOptions = {}): SimNode[] {
  const ttlAt = opts.ttlAt ?? (() => config.ttlMs);
  const rule = opts.leaseRule ?? 'real';
  const store: Stored = { version: 1, exists: false, holder: null, ttlMs: config.ttlMs, transitions: 0, renewSeq: 0 };
  const nodes: SimNode[] = Array.from({ length: nodeCount }, (_, i) => ({
    name: `n${i}`,
    view: null,
    observedAt: 0,
    leaseDeadline: null,
    lastRenewAt: null,
    busy: false,
    acting: null,
    intervals: [],
  }));
  const queue: SimEvent[] = [];
  const push = (e: SimEvent) => queue.push(e);
  // Half of all delays are zero (the common, fast case); that is where a too-long lease would show.
  const delay = (max: number) => (random() < 0.5 ? 0 : Math.floor(random() * max));
  const tuple = (s: Stored | null) => (s ? `${s.exists}|${s.holder}|${s.transitions}|${s.renewSeq}` : 'none');

  const endActing = (n: SimNode, at: number) => {
    if (n.acting) n.intervals.push({ from: n.acting.from, to: Math.min(at, n.acting.to) });
    n.acting = null;
    n.leaseDeadline = null;
    n.lastRenewAt = null;
  };
  const deliverAll = () => {
    for (let i = 0; i < nodes.length; i++) {
      // Watches are late by up to 3 s, and sometimes miss an update entirely (a later one arrives instead).
      if (random() < 0.1) continue;
      push({ at: now + delay(3_000), kind: 'deliver', node: i, value: { ...store } });
    }
  };

  // Each node is cut off from the API now and then (its writes never land, it hears nothing) for up to 2 ttl.
  const cuts = nodes.map(() => {
    const windows: { from: number; to: number }[] = [];
    for (let t = delay(config.ttlMs * 3); t < durationMs; t += config.ttlMs + delay(config.ttlMs * 4)) {
      const len = delay(config.ttlMs * 2);
      windows.push({ from: t, to: t + len });
      t += len;
    }
    return windows;
  });
  const cut = (i: number, at: number) => cuts[i]!.some((w) => at >= w.from && at < w.to);

  let now = 0;
  // Each node's first list arrives at a different time.
  nodes.forEach((_, i) => push({ at: delay(2_000), kind: 'deliver', node: i, value: { ...store } }));
  while (queue.length) {
    queue.sort((a, b) => a.at - b.at);
    const e = queue.shift()!;
    if (e.at > durationMs) break;
    now = e.at;
    const n = nodes[e.node]!;
    // Leadership ends by itself at the lease deadline (the fence timer).
    if (n.acting && now >= n.acting.to) endActing(n, n.acting.to);
    switch (e.kind) {
      case 'deliver': {
        if (cut(e.node, now)) break;
        if (n.view && e.value.version < n.view.version) break;
        if (n.view && e.value.version === n.view.version && n.view.exists === e.value.exists) break;
        if (tuple(e.value) !== tuple(n.view)) n.observedAt = now;
        n.view = e.value;
        push({ at: now, kind: 'tick', node: e.node });
        break;
      }
      case 'tick': {
        if (n.busy) break;
        const v = n.view;
        const lockView: LockView = {
          version: v && v.exists ? String(v.version) : null,
          holder: v && v.exists ? v.holder : null,
          ttlMs: v?.ttlMs ?? config.ttlMs,
          transitions: v?.transitions ?? 0,
          acquireTime: null,
          observedAt: n.observedAt,
        };
        const o: Observation = {
          now,
          storeReady: v !== null,
          lock: lockView,
          members: [],
          self: {
            name: n.name,
            healthy: true,
            nofailover: false,
            leaseDeadline: n.leaseDeadline,
            lastRenewAt: n.lastRenewAt,
            shuttingDown: false,
            stopped: false,
            published: null,
          },
        };
        const ttlMs = ttlAt(now);
        const nodeConfig = { ttlMs, loopWaitMs: Math.max(1000, Math.floor(ttlMs / 3)) };
        const d = decide(o, nodeConfig);
        expect(violations(o, d)).toEqual([]);
        for (const a of d.actions) {
          if (a.type === 'step-down') endActing(n, now);
          if (a.type === 'acquire' || a.type === 'renew') {
            n.busy = true;
            if (rule === 'real') {
              n.leaseDeadline = leaseCappedByWrite(n.leaseDeadline, now, ttlMs);
              if (n.acting && n.leaseDeadline !== null) n.acting.to = n.leaseDeadline;
            }
            push({ at: now + delay(2_000), kind: 'land', node: e.node, action: a, startedAt: now, ttlMs });
            break;
          }
        }
        push({ at: Math.max(d.nextCheckAt, now + 1), kind: 'tick', node: e.node });
        break;
      }
      case 'land': {
        const a = e.action as Extract<Action, { type: 'acquire' | 'renew' }>;
        // The conditional write: version must match (or the object must not exist for a create).
        const matches =
          !cut(e.node, e.startedAt) &&
          !cut(e.node, now) &&
          (a.basis.version === null ? !store.exists : store.exists && String(store.version) === a.basis.version);
        if (matches) {
          const changed = store.holder !== n.name;
          Object.assign(store, {
            exists: true,
            version: store.version + 1,
            holder: n.name,
            ttlMs: e.ttlMs,
            transitions: store.transitions + (changed ? 1 : 0),
            renewSeq: store.renewSeq + 1,
          });
          deliverAll();
        }
        // Answers can be slow or lost; a lost answer looks like a failed request even though the write landed.
        const lost = random() < 0.2;
        push({ at: now + delay(4_000), kind: 'answer', node: e.node, action: a, startedAt: e.startedAt, ttlMs: e.ttlMs, ok: matches && !lost });
        break;
      }
      case 'answer': {
        n.busy = false;
        if (e.ok) {
          const deadline = leaseDeadlineAfterWrite(e.startedAt, e.ttlMs);
          if (deadline > now) {
            n.leaseDeadline = rule === 'real' ? deadline : Math.max(n.leaseDeadline ?? 0, deadline);
            n.lastRenewAt = Math.max(n.lastRenewAt ?? 0, e.startedAt);
            n.acting = { from: n.acting?.from ?? now, to: n.leaseDeadline };
          }
        } else if (e.action.type === 'renew' && random() < 0.5) {
          endActing(n, now); // a 409 on renew: lock lost
        }
        push({ at: now, kind: 'tick', node: e.node });
        break;
      }
    }
  }
  for (const n of nodes) if (n.acting) endActing(n, Math.min(now, n.acting.to));
  return nodes;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The first moment two nodes acted as leader at once, or null. */
function overlapOf(nodes: readonly SimNode[]): { at: number; nodes: string[] } | null {
  const all = nodes.flatMap((n) => n.intervals.map((iv) => ({ ...iv, node: n.name }))).filter((iv) => iv.to > iv.from);
  all.sort((x, y) => x.from - y.from);
  for (let i = 1; i < all.length; i++) {
    for (let j = 0; j < i; j++) {
      if (all[j]!.node !== all[i]!.node && all[i]!.from < all[j]!.to) return { at: all[i]!.from, nodes: [all[j]!.node, all[i]!.node] };
    }
  }
  return null;
}

const led = (nodes: readonly SimNode[]) => nodes.some((n) => n.intervals.some((iv) => iv.to > iv.from));

/** A ttl that changes every 5-40 s to anything from 5 to 30 s, as `pgha edit-config --set ttl=...` would. */
function changingTtl(random: () => number, durationMs: number): (t: number) => number {
  const steps: { from: number; ttlMs: number }[] = [{ from: 0, ttlMs: 30_000 }];
  for (let t = 0; t < durationMs;) {
    t += 5_000 + Math.floor(random() * 35_000);
    steps.push({ from: t, ttlMs: (5 + Math.floor(random() * 26)) * 1000 });
  }
  return (t) => steps.filter((s) => s.from <= t).at(-1)!.ttlMs;
}

describe('simulated cluster', () => {
  it('never has two nodes acting as leader at once, under delays, lost answers and stale views', () => {
    let someoneLed = 0;
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 5, max: 30 }), (seed, count, ttlSeconds) => {
        const config = { ttlMs: ttlSeconds * 1000, loopWaitMs: Math.max(1000, Math.floor((ttlSeconds * 1000) / 3)) };
        const nodes = simulate(mulberry32(seed), count, config, 200_000);
        if (led(nodes)) someoneLed++;
        expect(overlapOf(nodes)).toBeNull();
      }),
      { numRuns: 100 },
    );
    // The simulation is not vacuous: leaders do get elected.
    expect(someoneLed).toBeGreaterThan(80);
  });

  it('never has two leaders while the ttl changes under partitions (each write carries the ttl it is timed by)', () => {
    let someoneLed = 0;
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 2, max: 5 }), (seed, count) => {
        const random = mulberry32(seed);
        const ttlAt = changingTtl(mulberry32(seed ^ 0x5bd1e995), 300_000);
        const nodes = simulate(random, count, { ttlMs: 30_000, loopWaitMs: 10_000 }, 300_000, { ttlAt });
        if (led(nodes)) someoneLed++;
        expect(overlapOf(nodes)).toBeNull();
      }),
      { numRuns: 100 },
    );
    expect(someoneLed).toBeGreaterThan(80);
  });

  it('tells the rules apart: keeping the longest confirmed lease (the old rule) does split the brain when ttl drops', () => {
    let found = 0;
    for (let seed = 1; seed <= 200 && found === 0; seed++) {
      const ttlAt = changingTtl(mulberry32(seed ^ 0x5bd1e995), 300_000);
      if (overlapOf(simulate(mulberry32(seed), 3, { ttlMs: 30_000, loopWaitMs: 10_000 }, 300_000, { ttlAt, leaseRule: 'keep-longest' }))) found++;
    }
    expect(found).toBeGreaterThan(0);
  });
});
