// The cdk8s app (`cdk8s synth` runs this): writes the plain manifests to dist/.
import { buildApp } from './app';

buildApp().synth();
