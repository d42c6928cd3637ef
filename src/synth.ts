// `npm run synth`: every output from the one model.
//   dist/*.k8s.yaml                              plain manifests (the default cluster and the README's examples)
//   dist/helm/pgha/                              the Helm chart
//   templates/pgha-{ephemeral,persistent}.yaml   OpenShift Templates (committed; CI checks they match)
//   docs/configuration.md                        the agent's configuration reference (committed; a synth test checks it)
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildApp, synthManifests } from './app';
import { configurationReference } from './outputs/configuration-reference';
import { helmChartFiles } from './outputs/helm-chart';
import { openshiftTemplateYaml, TEMPLATE_VARIANTS, templateName } from './outputs/openshift-template';

const root = join(__dirname, '..', '..');

synthManifests(buildApp(join(root, 'dist')));

const chartDir = join(root, 'dist', 'helm', 'pgha');
rmSync(chartDir, { recursive: true, force: true });
for (const [path, text] of Object.entries(helmChartFiles())) {
  mkdirSync(dirname(join(chartDir, path)), { recursive: true });
  writeFileSync(join(chartDir, path), text);
}

mkdirSync(join(root, 'templates'), { recursive: true });
for (const variant of TEMPLATE_VARIANTS) {
  writeFileSync(join(root, 'templates', `${templateName(variant)}.yaml`), openshiftTemplateYaml(variant));
}

mkdirSync(join(root, 'docs'), { recursive: true });
writeFileSync(join(root, 'docs', 'configuration.md'), configurationReference());
