// Property tests of the safety rules: random snapshots never make `decide` break a rule, and a simulated cluster
// of nodes running the real `decide` against a conditional-write store, with arbitrary delays, lost answers and
// stale views, never has two nodes acting as leader at the same moment.
import fc from 'fast-check';
import type { Action } from '../../../agent/src/core/actions';
import { decide } from '../../../agent/src/core/decide';
import { violations } from '../../../agent/src/core/invariants';
import { type FailsafeAnswer, failsafeRoundDeadline, failsafeVerdict } from '../../../agent/src/core/failsafe';
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
    failsafe: fc.option(fc.constantFrom<Record<string, string>>({ a: 'u' }, { b: 'u', c: 'u' }, { a: 'u', b: 'u' })),
    failsafePromiseUntil: fc.option(fc.integer({ min: 0, max: 200_000 })),
    failsafeWritten: fc.constantFrom<Record<string, string>>({}, { a: 'u' }, { a: 'u', c: 'u' }),
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
      failsafe: r.failsafe,
    },
    members: [],
    self: {
      name: 'a',
      failsafePromiseUntil: r.failsafePromiseUntil,
      failsafeWritten: r.failsafeWritten,
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
      fc.property(observation, fc.integer({ min: 1_000, max: 20_000 }), fc.boolean(), (o, loopWaitMs, failsafeMode) => {
        const d = decide(o, { ttlMs: 30_000, loopWaitMs, failsafeMode });
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
  /** The holder's failsafe topology (names), written with each lock write in failsafe mode. */
  failsafe: string[] | null;
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
  acquiring: boolean;
  promisedUntil: number | null;
  round: { id: number; startedAt: number; ttlMs: number; asked: string[]; answers: FailsafeAnswer[] } | null;
  /** Some failsafe round extended this node's lease. */
  extendedByFailsafe: boolean;
  /** Topologies its lock writes since the last confirmed one carried (`SelfView.failsafeWritten`). */
  written: Record<string, string>;
}

type SimEvent =
  | { at: number; kind: 'tick'; node: number }
  | { at: number; kind: 'land'; node: number; action: Action; startedAt: number; ttlMs: number; topology: string[] | null }
  | {
      at: number;
      kind: 'answer';
      node: number;
      action: Action;
      startedAt: number;
      ttlMs: number;
      ok: boolean;
      conflict?: boolean;
      topology: string[] | null;
    }
  | { at: number; kind: 'deliver'; node: number; value: Stored }
  | { at: number; kind: 'fs-ask'; node: number; from: number; round: number; durationMs: number }
  | { at: number; kind: 'fs-reply'; node: number; round: number; answer: FailsafeAnswer }
  | { at: number; kind: 'fs-close'; node: number; round: number };

interface SimOptions {
  /** The ttl in force (the dynamic configuration) at time t; each write carries the one in force when it starts. */
  readonly ttlAt?: (t: number) => number;
  /**
   * How a node's lease follows its writes. `real`: the agent's rule (capped when a write starts, set when it lands).
   * `keep-longest`: the old, wrong rule (the longest deadline ever confirmed), to show the test can tell them apart.
   */
  readonly leaseRule?: 'real' | 'keep-longest';
  /**
   * Failsafe mode: a leader whose renew cannot reach the store asks the others over a network of its own (cut and
   * lossy too) for promises. `ignore-promises`: members promise but do not keep them, to show the promise matters.
   */
  readonly failsafe?: 'on' | 'ignore-promises';
}

function simulate(random: () => number, nodeCount: number, config: CoreConfig, durationMs: number, opts: SimOptions = {}): SimNode[] {
  const ttlAt = opts.ttlAt ?? (() => config.ttlMs);
  const rule = opts.leaseRule ?? 'real';
  const store: Stored = { version: 1, exists: false, holder: null, ttlMs: config.ttlMs, transitions: 0, renewSeq: 0, failsafe: null };
  const failsafe = opts.failsafe;
  let rounds = 0;
  const nodes: SimNode[] = Array.from({ length: nodeCount }, (_, i) => ({
    name: `n${i}`,
    view: null,
    observedAt: 0,
    leaseDeadline: null,
    lastRenewAt: null,
    busy: false,
    acting: null,
    intervals: [],
    acquiring: false,
    promisedUntil: null,
    round: null,
    extendedByFailsafe: false,
    written: {},
  }));
  const urls = (names: readonly string[] | null) => Object.fromEntries((names ?? []).map((name) => [name, `http://${name}`]));
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
  // The members' own network (REST API) fails too, independently of the API's.
  const peerCuts = nodes.map(() => {
    const windows: { from: number; to: number }[] = [];
    for (let t = delay(config.ttlMs * 4); t < durationMs; t += config.ttlMs + delay(config.ttlMs * 6)) {
      const len = delay(config.ttlMs * 2);
      windows.push({ from: t, to: t + len });
      t += len;
    }
    return windows;
  });
  const peerCut = (i: number, at: number) => peerCuts[i]!.some((w) => at >= w.from && at < w.to);
  const closeRound = (n: SimNode, nodeIndex: number) => {
    const r = n.round!;
    n.round = null;
    n.busy = false;
    const extended = failsafeRoundDeadline(r.asked, r.answers, r.startedAt, r.ttlMs);
    if (extended !== null && n.acting && n.leaseDeadline !== null && now < n.leaseDeadline) {
      n.leaseDeadline = Math.max(n.leaseDeadline, extended);
      n.extendedByFailsafe = true;
      n.lastRenewAt = r.startedAt;
      n.acting.to = n.leaseDeadline;
    }
    push({ at: now, kind: 'tick', node: nodeIndex });
  };

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
          failsafe: v && v.exists && v.failsafe ? urls(v.failsafe) : null,
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
            failsafePromiseUntil: failsafe === 'on' ? n.promisedUntil : null,
            failsafeWritten: n.written,
          },
        };
        const ttlMs = ttlAt(now);
        const nodeConfig = { ttlMs, loopWaitMs: Math.max(1000, Math.floor(ttlMs / 3)), failsafeMode: failsafe !== undefined };
        const d = decide(o, nodeConfig);
        expect(violations(o, d)).toEqual([]);
        for (const a of d.actions) {
          if (a.type === 'step-down') endActing(n, now);
          if (a.type === 'acquire' || a.type === 'renew') {
            n.busy = true;
            n.acquiring = a.type === 'acquire';
            if (rule === 'real') {
              n.leaseDeadline = leaseCappedByWrite(n.leaseDeadline, now, ttlMs);
              if (n.acting && n.leaseDeadline !== null) n.acting.to = n.leaseDeadline;
            }
            // The topology goes with the write (the members the writer knows of: those that have a view), and
            // counts as possibly stored until a write is confirmed.
            const topology = failsafe ? nodes.filter((x) => x.view !== null || x === n).map((x) => x.name) : null;
            n.written = { ...n.written, ...urls(topology) };
            push({ at: now + delay(2_000), kind: 'land', node: e.node, action: a, startedAt: now, ttlMs, topology });
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
            failsafe: e.topology,
          });
          deliverAll();
        }
        // Answers can be slow or lost; a lost answer looks like a failed request even though the write landed.
        const lost = random() < 0.2;
        const conflict = !matches && !cut(e.node, e.startedAt) && !cut(e.node, now);
        push({
          at: now + delay(4_000),
          kind: 'answer',
          node: e.node,
          action: a,
          startedAt: e.startedAt,
          ttlMs: e.ttlMs,
          ok: matches && !lost,
          conflict,
          topology: e.topology,
        });
        break;
      }
      case 'answer': {
        n.busy = false;
        n.acquiring = false;
        const peers = e.action.type === 'renew' ? e.action.failsafe : undefined;
        if (!e.ok && !e.conflict && peers && n.acting) {
          // The renew could not reach the store: a failsafe round, which keeps the loop busy until it ends.
          n.busy = true;
          const id = ++rounds;
          n.round = { id, startedAt: now, ttlMs: e.ttlMs, asked: Object.keys(peers), answers: [] };
          for (const name of Object.keys(peers)) {
            const to = nodes.findIndex((x) => x.name === name);
            if (!peerCut(e.node, now) && !peerCut(to, now) && random() > 0.1)
              push({ at: now + delay(1_500), kind: 'fs-ask', node: to, from: e.node, round: id, durationMs: e.ttlMs });
          }
          push({ at: now + 2_000, kind: 'fs-close', node: e.node, round: id });
          break;
        }
        if (e.ok) {
          n.written = urls(e.topology);
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
      case 'fs-ask': {
        const v = n.view;
        const leading = n.acting !== null && n.leaseDeadline !== null && now < n.leaseDeadline;
        const verdict = failsafeVerdict({
          now,
          enabled: true,
          from: nodes[e.from]!.name,
          durationMs: e.durationMs,
          leading,
          runsAsPrimary: leading,
          acquiring: n.acquiring,
          storeReady: v !== null,
          holder: v && v.exists ? v.holder : null,
          promisedUntil: n.promisedUntil,
        });
        if (verdict.granted) n.promisedUntil = verdict.until;
        const answer = { name: n.name, promisedMs: verdict.granted ? verdict.promisedMs : null };
        if (!peerCut(e.node, now) && !peerCut(e.from, now) && random() > 0.1)
          push({ at: now + delay(1_500), kind: 'fs-reply', node: e.from, round: e.round, answer });
        break;
      }
      case 'fs-reply': {
        if (n.round?.id !== e.round) break;
        n.round.answers.push(e.answer);
        if (n.round.answers.length === n.round.asked.length) closeRound(n, e.node);
        break;
      }
      case 'fs-close': {
        if (n.round?.id === e.round) closeRound(n, e.node);
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

  it('never has two leaders in failsafe mode, while leaders lead on promises through API and member-network cuts', () => {
    let onPromises = 0;
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 2, max: 5 }), fc.integer({ min: 5, max: 30 }), (seed, count, ttlSeconds) => {
        const config = { ttlMs: ttlSeconds * 1000, loopWaitMs: Math.max(1000, Math.floor((ttlSeconds * 1000) / 3)) };
        const nodes = simulate(mulberry32(seed), count, config, 200_000, { failsafe: 'on' });
        // Not vacuous: some leader acted past its last lock write's ttl, on promises alone.
        if (nodes.some((n) => n.extendedByFailsafe)) onPromises++;
        expect(overlapOf(nodes)).toBeNull();
      }),
      // 300: a vacuous round (a leader whose view of its topology names only itself, after a write that added a
      // member landed unanswered) showed in about one of 300 runs before rounds asked the written topologies too.
      { numRuns: 300 },
    );
    expect(onPromises).toBeGreaterThan(90);
  });

  // A known defect, found by the property above in CI on 2026-12-03 (fast-check seed -88717577): two leaders at
  // 10.7 s. Marked failing so the suite states it until the decision rules are fixed; once they are, this test
  // fails and must become a plain test.
  it.failing('failsafe counterexample found in CI (seed 2147483626, 5 members, ttl 8 s): two leaders', () => {
    const nodes = simulate(mulberry32(2147483626), 5, { ttlMs: 8000, loopWaitMs: Math.max(1000, Math.floor(8000 / 3)) }, 200_000, { failsafe: 'on' });
    expect(overlapOf(nodes)).toBeNull();
  });

  it('a leader that knew of no other member and wrote one in, unanswered, still asks it (seed that split the brain)', () => {
    const config = { ttlMs: 23_000, loopWaitMs: Math.floor(23_000 / 3) };
    expect(overlapOf(simulate(mulberry32(-1208786875), 3, config, 200_000, { failsafe: 'on' }))).toBeNull();
  });

  it('tells failsafe apart: members that promise but still take the lock do split the brain', () => {
    let found = 0;
    for (let seed = 1; seed <= 300 && found === 0; seed++) {
      if (overlapOf(simulate(mulberry32(seed), 3, { ttlMs: 10_000, loopWaitMs: 3_000 }, 200_000, { failsafe: 'ignore-promises' }))) found++;
    }
    expect(found).toBeGreaterThan(0);
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
