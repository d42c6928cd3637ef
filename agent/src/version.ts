/** The agent's version, published in member status and the User-Agent. Keep in step with package.json. */
export const AGENT_VERSION = '0.1.0';
