// `npm run bench -- <name> [args]` runs build/bench/<name>.js; without a name, lists the benchmarks.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const name = process.argv[2];
const available = readdirSync(__dirname)
  .filter((f) => f.endsWith('.js') && f !== 'run.js')
  .map((f) => f.slice(0, -3))
  .sort();
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [args]; benchmarks: ${available.join(', ')}${name ? `; got ${JSON.stringify(name)}` : ''}`);
  process.exit(2);
}
const script = join(__dirname, `${name}.js`);
if (!existsSync(script)) process.exit(2);
const r = spawnSync(process.execPath, [script, ...process.argv.slice(3)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
