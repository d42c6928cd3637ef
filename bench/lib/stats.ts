/** Summary statistics for benchmark samples. Benchmarks report medians; min and max show the spread. */
export interface Summary {
  readonly runs: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { runs: s.length, median, min: s[0]!, max: s[s.length - 1]! };
}

export function formatSummary(label: string, unit: string, s: Summary, digits = 2): string {
  const f = (n: number) => n.toFixed(digits);
  return `${label}: median ${f(s.median)} ${unit} (min ${f(s.min)}, max ${f(s.max)}, ${s.runs} runs)`;
}
