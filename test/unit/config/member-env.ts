/** The environment a member's Pod gives the agent (what the config tests start from). */
export const MEMBER_ENV: Readonly<Record<string, string>> = {
  PATRONI_SCOPE: 'demo',
  PATRONI_NAME: 'demo-0',
  PATRONI_KUBERNETES_POD_IP: '192.0.2.3',
  PATRONI_SUPERUSER_PASSWORD: 's3cret',
  PATRONI_REPLICATION_PASSWORD: 'r3pl',
};
