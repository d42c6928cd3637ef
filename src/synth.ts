// `npm run synth`: every output from the one model: plain manifests in dist/.
import { buildApp } from './app';

buildApp('dist').synth();
