// README examples are real code: the TypeScript ones are these files (compiled by tsc, synthesized into dist/), and
// the output they document is deterministic.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app';

const root = join(__dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('README deployment sections', () => {
  it.each(['Using the constructs (cdk8s)', 'Helm', 'OpenShift', 'GitOps'])('has the section "%s"', (title) => {
    expect(readme).toContain(`\n## ${title}\n`);
  });

  it.each(['basic-cluster.ts', 'dedicated-nodes.ts'])('shows src/examples/%s verbatim', (file) => {
    const code = readFileSync(join(root, 'src', 'examples', file), 'utf8').trimEnd();
    expect(readme).toContain(`\`\`\`ts\n${code}\n\`\`\``);
  });

  it('synthesizes byte-for-byte the same plain manifests every time', () => {
    const a = mkdtempSync(join(tmpdir(), 'pgha-synth-a-'));
    const b = mkdtempSync(join(tmpdir(), 'pgha-synth-b-'));
    buildApp(a).synth();
    buildApp(b).synth();
    const files = readdirSync(a).sort();
    expect(files).toEqual(['billing-db.k8s.yaml', 'orders-db.k8s.yaml', 'pgha.k8s.yaml']);
    for (const f of files) expect(readFileSync(join(b, f), 'utf8')).toBe(readFileSync(join(a, f), 'utf8'));
    for (const d of [a, b]) rmSync(d, { recursive: true, force: true });
  });
});

describe('README paths', () => {
  // Every repository path the README names in backticks must exist, so the docs cannot drift from the tree.
  const named = [...readme.matchAll(/`((?:agent|constructs|src|templates|test|bench|docs|dist)\/[^`\s]*)`/g)].map((m) => m[1]!);
  const generated = (p: string) => p.startsWith('dist/');
  // `a-{b,c}.yaml` names two files; a `<placeholder>` stands for any name, so only what precedes it is checked.
  const expand = (p: string): string[] => {
    const m = /\{([^}]+)\}/.exec(p);
    return m ? m[1]!.split(',').flatMap((alt) => expand(p.replace(m[0], alt))) : [p.replace(/<[^>]+>.*$/, '')];
  };
  it.each([...new Set(named.filter((p) => !generated(p)))])('%s exists', (path) => {
    for (const p of expand(path)) expect(existsSync(join(root, p))).toBe(true);
  });
});
