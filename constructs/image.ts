// The version comes from the agent rather than package.json: a packed library (lib/) holds no copy of package.json
// where `../package.json` would find it. test/unit/constructs/default-image.test.ts keeps the two in step.
import { AGENT_VERSION } from '../agent/src/version';

/** The agent image `npm run image` builds and every output uses unless told otherwise. */
export const DEFAULT_IMAGE = `localhost/pgha-agent:${AGENT_VERSION}`;

/** The project version, used as the Helm chart's version and the Pods' `app.kubernetes.io/version`. */
export const PGHA_VERSION: string = AGENT_VERSION;
