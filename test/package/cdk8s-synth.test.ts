// `cdk8s synth`, the way the cdk8s docs tell users to run an app, in what a fresh clone holds after `npm ci`: no
// compiled output, no dist/. It must compile what it needs itself and write where `-o` says, or to stdout.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { freshCopy } from './fresh-copy';

type Obj = { kind: string; metadata: { name: string } };

// --no-check-upgrade: the CLI would otherwise ask registry.npmjs.org for a newer version of itself.
const cdk8sSynth = (cwd: string, ...args: string[]) => execFileSync('npx', ['cdk8s', 'synth', '--no-check-upgrade', ...args], { cwd, encoding: 'utf8' });

/** `Kind/name` of every object in a YAML stream; throws on anything that is not one valid YAML document per object. */
function names(yaml: string): string[] {
  return parseAllDocuments(yaml).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
    const o = doc.toJS() as Obj;
    return `${o.kind}/${o.metadata.name}`;
  });
}

describe('cdk8s synth in a fresh clone', () => {
  let copy: ReturnType<typeof freshCopy>;
  let compiledBefore: boolean;
  let outFiles: string[];
  let fromOutDir: string[];
  let printed: string;
  let distAfter: boolean;

  beforeAll(() => {
    copy = freshCopy('pgha-cdk8s-synth-');
    compiledBefore = existsSync(join(copy.dir, 'build')) || existsSync(join(copy.dir, 'dist'));
    cdk8sSynth(copy.dir, '-o', 'out');
    outFiles = readdirSync(join(copy.dir, 'out')).sort();
    fromOutDir = outFiles.flatMap((f) => names(readFileSync(join(copy.dir, 'out', f), 'utf8')));
    printed = cdk8sSynth(copy.dir, '--stdout');
    distAfter = existsSync(join(copy.dir, 'dist'));
  });
  afterAll(() => copy?.remove());

  it('starts from sources only (no build/, no dist/)', () => {
    expect(compiledBefore).toBe(false);
  });

  it('writes the plain manifests where -o says', () => {
    expect(outFiles).toEqual(['billing-db.k8s.yaml', 'orders-db.k8s.yaml', 'pgha.k8s.yaml']);
    const pgha = names(readFileSync(join(copy.dir, 'out', 'pgha.k8s.yaml'), 'utf8'));
    expect(pgha).toEqual(expect.arrayContaining(['StatefulSet/pgha', 'Service/pgha', 'Service/pgha-replicas', 'Service/pgha-members']));
  });

  it('with --stdout prints every object of every manifest as valid YAML, and nothing else', () => {
    expect(fromOutDir).toEqual(expect.arrayContaining(['StatefulSet/orders', 'StatefulSet/billing', 'StatefulSet/pgha']));
    expect(names(printed).sort()).toEqual([...fromOutDir].sort());
  });

  it('writes nothing to the default dist/ with either -o or --stdout', () => {
    expect(distAfter).toBe(false);
  });
});
