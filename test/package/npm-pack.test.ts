// The construct library as another project gets it: `npm pack` (its prepack compiles lib/ from sources alone) in a
// fresh copy of the repository, the tarball installed by npm into a cdk8s TypeScript app outside the repository,
// compiled by tsc in strict mode against the package's declarations, and run to synthesize a cluster.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { freshCopy, repoRoot } from './fresh-copy';

const repoPackage = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const installedVersion = (name: string): string => JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')).version;

// The consumer: what a user writes, importing the package by its name.
const consumerMain = `import { App, Chart, Size } from 'cdk8s';
import { ClusterCredentials, PostgresCluster, type PostgresClusterProps } from 'pgha';

const props: PostgresClusterProps = {
  replicas: 3,
  storageSize: Size.gibibytes(5),
  credentials: ClusterCredentials.fromSecret('orders-passwords'),
};
const app = new App({ outdir: 'out' });
const chart = new Chart(app, 'orders-db', { disableResourceNameHashes: true });
const cluster = new PostgresCluster(chart, 'orders', props);
const primary: string = cluster.primaryServiceName;
console.log(primary);
app.synth();
`;

describe('npm pack', () => {
  let work: string;
  let files: string[];
  let printed: string;
  let objects: any[];
  let cliVersion: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'pgha-npm-pack-'));
    const copy = freshCopy('pgha-npm-pack-src-');
    try {
      execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: copy.dir, stdio: ['ignore', 'ignore', 'inherit'] });
    } finally {
      copy.remove();
    }
    const tarball = join(work, `pgha-${repoPackage.version}.tgz`);
    files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();

    const app = join(work, 'app');
    mkdirSync(app);
    const own = { cdk8s: installedVersion('cdk8s'), constructs: installedVersion('constructs') };
    const dev = { typescript: installedVersion('typescript'), '@types/node': installedVersion('@types/node') };
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, dependencies: { pgha: `file:${tarball}`, ...own }, devDependencies: dev }),
    );
    // No registry here: every package but pgha is already installed, linked from the repository's node_modules (as
    // a shared cache would), so npm only has to unpack the tarball and check that its dependencies are met.
    for (const name of new Set([...Object.keys(repoPackage.dependencies), ...Object.keys(own), ...Object.keys(dev)])) {
      mkdirSync(dirname(join(app, 'node_modules', name)), { recursive: true });
      symlinkSync(join(repoRoot, 'node_modules', name), join(app, 'node_modules', name), 'dir');
    }
    execFileSync('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--silent'], {
      cwd: app,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    writeFileSync(join(app, 'main.ts'), consumerMain);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'commonjs', moduleResolution: 'node', strict: true, types: ['node'] },
        files: ['main.ts'],
      }),
    );
    execFileSync(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app, stdio: ['ignore', 'inherit', 'inherit'] });
    printed = execFileSync(process.execPath, [join(app, 'main.js')], { cwd: app, encoding: 'utf8' });
    objects = parseAllDocuments(readFileSync(join(app, 'out', 'orders-db.k8s.yaml'), 'utf8')).map((d) => d.toJS());
    cliVersion = execFileSync(join(app, 'node_modules', '.bin', 'pgha'), ['--version'], { cwd: app, encoding: 'utf8' });
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships the compiled library with declarations and nothing of the sources, tests or build/', () => {
    expect(files).toEqual(expect.arrayContaining(['package/package.json', `package/${repoPackage.main}`, `package/${repoPackage.types}`]));
    expect(files.filter((f) => !/^package\/(lib\/.*\.(js|d\.ts)|package\.json|README\.md)$/.test(f))).toEqual([]);
  });

  it('installs the pgha command (package.json bin) and it runs', () => {
    expect(files).toContain(`package/${repoPackage.bin.pgha}`);
    expect(cliVersion).toContain(repoPackage.version);
  });

  it('synthesizes a PostgresCluster in a TypeScript app that installed the tarball', () => {
    expect(printed.trim()).toBe('orders');
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toEqual(expect.arrayContaining(['StatefulSet/orders', 'Service/orders', 'Service/orders-replicas', 'Service/orders-members']));
    const sts = objects.find((o) => o.kind === 'StatefulSet');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('5Gi');
    // The user's Secret is referenced, not synthesized.
    expect(names).not.toContain('Secret/orders-passwords');
  });
});
