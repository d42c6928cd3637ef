// `npm run bench -- synth [runs]`: wall time of `npm run synth` (type-check and compile, then every output), and of
// the synth step alone (`node build/src/synth.js`: plain manifests, Helm chart, OpenShift Templates). Medians.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { formatSummary, summarize } from './lib/stats';

const root = join(__dirname, '..', '..');
const runs = Number.parseInt(process.argv[2] ?? '5', 10);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`usage: npm run bench -- synth [runs]; runs must be a whole number of at least 1, got ${JSON.stringify(process.argv[2])}`);
  process.exit(2);
}

function time(command: string, args: string[]): number {
  const started = performance.now();
  const r = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    console.error(`${command} ${args.join(' ')} exited ${r.status ?? r.signal}`);
    process.exit(1);
  }
  return (performance.now() - started) / 1000;
}

const full: number[] = [];
const synthOnly: number[] = [];
for (let i = 0; i < runs; i++) {
  full.push(time('npm', ['run', '--silent', 'synth']));
  synthOnly.push(time(process.execPath, [join(root, 'build', 'src', 'synth.js')]));
}
console.log(formatSummary('npm run synth (tsc + synth)', 's', summarize(full)));
console.log(formatSummary('synth step alone (node build/src/synth.js)', 's', summarize(synthOnly)));
