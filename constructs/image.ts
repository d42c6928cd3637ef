import { version } from '../package.json';

/** The agent image `npm run image` builds and every output uses unless told otherwise. */
export const DEFAULT_IMAGE = `localhost/pgha-agent:${version}`;

/** The project version, used as the Helm chart's version and the Pods' `app.kubernetes.io/version`. */
export const PGHA_VERSION: string = version;
