// The README's Helm and OpenShift commands, run as written (helm install -> helm template; oc new-app -f -> the
// library-go processor), and their objects applied with a server-side dry run in a restricted namespace.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeClient } from '../../../agent/src/kube/kube-client';
import { helmChartFiles } from '../../../src/outputs/helm-chart';
import { createTestNamespace, testControlPlane, type TestNamespace } from '../../fixtures/cluster';
import { serverSideApply, warningsOf, type Manifest } from './apply';
import { repoPath, run, toolBinary } from './tools';
import { workDir } from '../agent/harness';

const readme = readFileSync(repoPath('README.md'), 'utf8');

function commandLine(prefix: string): string[] {
  const line = readme.split('\n').find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`README has no line starting with "${prefix}"`);
  return line.trim().split(/\s+/);
}

describe('README examples', () => {
  let admin: KubeClient;
  const namespaces: TestNamespace[] = [];
  beforeAll(() => {
    admin = testControlPlane().adminClient();
  });
  afterAll(async () => {
    for (const ns of namespaces) await ns.delete();
    admin.close();
  });

  it('helm install … renders objects that apply cleanly', async () => {
    const [, , release, chartPath, ...rest] = commandLine('helm install ');
    expect(chartPath).toBe('dist/helm/pgha');
    const work = workDir('readme-helm');
    for (const [path, text] of Object.entries(helmChartFiles())) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), text);
    }
    // helm install creates the release's objects; the helm test Pod only `helm test` does.
    const out = run(toolBinary('helm'), ['template', release!, work, '--skip-tests', ...rest], {
      HELM_CACHE_HOME: join(work, '.cache'),
      HELM_CONFIG_HOME: join(work, '.config'),
      HELM_DATA_HOME: join(work, '.data'),
    });
    const objects = parseAllDocuments(out)
      .map((d) => d.toJS() as Manifest | null)
      .filter((o): o is Manifest => o !== null);
    expect(objects.find((o) => o.kind === 'StatefulSet')?.metadata.name).toBe(release);
    const ns = await createTestNamespace(admin, 'tk-readme', { restricted: true });
    namespaces.push(ns);
    expect(warningsOf(await serverSideApply(admin, ns.name, objects, { dryRun: true }))).toEqual({});
  });

  it('oc new-app -f … processes and applies cleanly', async () => {
    const [, , flag, file, ...params] = commandLine('oc new-app -f ');
    expect(flag).toBe('-f');
    const { items } = JSON.parse(run(toolBinary('template-process'), ['-f', repoPath(file!), ...params])) as { items: Manifest[] };
    expect(items.find((o) => o.kind === 'StatefulSet')?.metadata.name).toBe('orders');
    const ns = await createTestNamespace(admin, 'tk-readme', { restricted: true });
    namespaces.push(ns);
    expect(warningsOf(await serverSideApply(admin, ns.name, items, { dryRun: true }))).toEqual({});
  });
});
