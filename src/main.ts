// The cdk8s app (`cdk8s synth` compiles and runs this, see cdk8s.yaml): writes the plain manifests to the directory
// the CLI names in CDK8S_OUTDIR (`-o DIR`, or a temporary one it prints for `--stdout`), by default dist/.
import { buildApp, synthManifests } from './app';

synthManifests(buildApp());
