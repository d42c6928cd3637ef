// `npm run synth`: every output from the one model.
//   dist/*.k8s.yaml                 plain manifests (the default cluster and the README's examples)
//   templates/pgha-{ephemeral,persistent}.yaml   OpenShift Templates (committed; CI checks they match)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Persistence } from '../constructs';
import { buildApp } from './app';
import { openshiftTemplateYaml } from './outputs/openshift-template';

const root = join(__dirname, '..', '..');

buildApp(join(root, 'dist')).synth();

mkdirSync(join(root, 'templates'), { recursive: true });
for (const persistence of [Persistence.EPHEMERAL, Persistence.PERSISTENT]) {
  writeFileSync(join(root, 'templates', `pgha-${persistence}.yaml`), openshiftTemplateYaml(persistence));
}
