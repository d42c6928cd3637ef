// `npm run synth`: every output from the one model.
//   dist/*.k8s.yaml                              plain manifests (the default cluster and the README's examples)
//   dist/helm/pgha/                              the Helm chart
//   templates/pgha-{ephemeral,persistent}.yaml   OpenShift Templates (committed; CI checks they match)
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Persistence } from '../constructs';
import { buildApp } from './app';
import { helmChartFiles } from './outputs/helm-chart';
import { openshiftTemplateYaml } from './outputs/openshift-template';

const root = join(__dirname, '..', '..');

buildApp(join(root, 'dist')).synth();

const chartDir = join(root, 'dist', 'helm', 'pgha');
rmSync(chartDir, { recursive: true, force: true });
for (const [path, text] of Object.entries(helmChartFiles())) {
  mkdirSync(dirname(join(chartDir, path)), { recursive: true });
  writeFileSync(join(chartDir, path), text);
}

mkdirSync(join(root, 'templates'), { recursive: true });
for (const persistence of [Persistence.EPHEMERAL, Persistence.PERSISTENT]) {
  writeFileSync(join(root, 'templates', `pgha-${persistence}.yaml`), openshiftTemplateYaml(persistence));
}
