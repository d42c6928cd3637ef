// Side-by-side figures of two systems, collected per metric, printed as a Markdown table of medians with min–max and
// the ratio of the first system's median to the second's, rows in alphabetical order (so a run's table lines up
// with the next run's whatever metrics appeared first). A metric whose samples failed says which and why.
import { summarize } from './stats';

export interface MetricSamples {
  readonly values: number[];
  readonly failures: string[];
}

export class Comparison {
  private readonly rows = new Map<string, { digits: number; bySystem: Map<string, MetricSamples> }>();

  /** Per-run counts by key (API requests by verb and resource): a key a run did not see counts 0 in that run. */
  private readonly counts = new Map<string, Map<string, Map<string, number>[]>>();

  constructor(private readonly systems: readonly [string, string]) {}

  /** One run's counts; each key becomes the row `${prefix} ${key}${suffix}`. */
  addCounts(prefix: string, suffix: string, system: string, run: ReadonlyMap<string, number>): void {
    const group = `${prefix}\u0000${suffix}`;
    if (!this.counts.has(group)) this.counts.set(group, new Map());
    const bySystem = this.counts.get(group)!;
    if (!bySystem.has(system)) bySystem.set(system, []);
    bySystem.get(system)!.push(new Map(run));
  }

  private fillCounts(): void {
    for (const [group, bySystem] of this.counts) {
      const [prefix, suffix] = group.split('\u0000');
      const keys = new Set([...bySystem.values()].flat().flatMap((m) => [...m.keys()]));
      for (const key of keys) for (const [system, runs] of bySystem) for (const m of runs) this.add(`${prefix} ${key}${suffix}`, system, m.get(key) ?? 0, 1);
    }
    this.counts.clear();
  }

  private cell(metric: string, system: string, digits: number): MetricSamples {
    let row = this.rows.get(metric);
    if (!row) this.rows.set(metric, (row = { digits, bySystem: new Map() }));
    let s = row.bySystem.get(system);
    if (!s) row.bySystem.set(system, (s = { values: [], failures: [] }));
    return s;
  }

  add(metric: string, system: string, value: number, digits = 2): void {
    this.cell(metric, system, digits).values.push(value);
  }

  fail(metric: string, system: string, why: string, digits = 2): void {
    this.cell(metric, system, digits).failures.push(why);
  }

  /** The Markdown table, then one line per failed sample. */
  markdown(): string {
    this.fillCounts();
    const [a, b] = this.systems;
    const lines = [`| metric | ${a} | ${b} | ${a}/${b} |`, '|---|---|---|---|'];
    const notes: string[] = [];
    for (const [metric, row] of [...this.rows].sort(([x], [y]) => x.localeCompare(y))) {
      const f = (n: number) => n.toFixed(row.digits);
      const medians: (number | undefined)[] = [];
      const cells = [a, b].map((system) => {
        const s = row.bySystem.get(system) ?? { values: [], failures: [] };
        for (const why of s.failures) notes.push(`- ${metric}, ${system}: failed: ${why}`);
        if (s.values.length === 0) {
          medians.push(undefined);
          return s.failures.length ? `failed (${s.failures.length})` : '–';
        }
        const m = summarize(s.values);
        medians.push(m.median);
        const spread = m.runs > 1 ? ` (${f(m.min)}–${f(m.max)})` : '';
        return `${f(m.median)}${spread}${s.failures.length ? `, ${s.failures.length} failed` : ''}`;
      });
      const [ma, mb] = medians;
      const ratio = ma === undefined || mb === undefined ? '–' : mb === 0 ? (ma === 0 ? '1.00' : '∞') : (ma / mb).toFixed(2);
      lines.push(`| ${metric} | ${cells[0]} | ${cells[1]} | ${ratio} |`);
    }
    return [...lines, ...(notes.length ? ['', ...notes] : [])].join('\n');
  }
}
