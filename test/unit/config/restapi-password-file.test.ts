// `restapi.authentication.password_file`: the REST API's basic-auth password read at start (a missing file is an
// error then), with the file kept so the API reads it again per request (a rotated Secret).
import { loadAgentConfig } from '../../../agent/src/config/agent-config';

const env = {
  PATRONI_SCOPE: 'demo',
  PATRONI_NAME: 'demo-0',
  PATRONI_KUBERNETES_POD_IP: '10.1.2.3',
  PATRONI_SUPERUSER_PASSWORD: 's3cret',
  PATRONI_REPLICATION_PASSWORD: 'r3pl',
};
const files: Record<string, string> = { '/run/api-pw': 'from-file\n', '/run/empty': '' };
const read = (p: string) => {
  if (!(p in files)) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
  return files[p]!;
};

describe('restapi.authentication.password_file', () => {
  it('reads the password from the file (one trailing newline dropped), from the file key or PATRONI_RESTAPI_PASSWORD_FILE', () => {
    const yaml = 'restapi:\n  authentication:\n    username: pgha\n    password_file: /run/api-pw\n';
    expect(loadAgentConfig({ yaml, env }, read).restapi.authentication).toEqual({ username: 'pgha', password: 'from-file', passwordFile: '/run/api-pw' });
    const viaEnv = loadAgentConfig(
      { yaml: 'restapi:\n  authentication:\n    username: pgha\n', env: { ...env, PATRONI_RESTAPI_PASSWORD_FILE: '/run/api-pw' } },
      read,
    );
    expect(viaEnv.restapi.authentication).toEqual({ username: 'pgha', password: 'from-file', passwordFile: '/run/api-pw' });
  });

  it('fails with both password and password_file', () => {
    const yaml = 'restapi:\n  authentication:\n    username: pgha\n    password: inline\n    password_file: /run/api-pw\n';
    expect(() => loadAgentConfig({ yaml, env }, read)).toThrow(
      'invalid configuration: restapi.authentication.password_file="/run/api-pw"; conflicts with restapi.authentication.password; set only one',
    );
  });

  it('fails with a file that cannot be read, naming it', () => {
    const yaml = 'restapi:\n  authentication:\n    username: pgha\n    password_file: /run/missing\n';
    expect(() => loadAgentConfig({ yaml, env }, read)).toThrow(
      'invalid configuration: restapi.authentication.password_file="/run/missing"; must be a readable file (ENOENT)',
    );
  });

  it('fails with an empty file rather than accept an empty password', () => {
    const yaml = 'restapi:\n  authentication:\n    username: pgha\n    password_file: /run/empty\n';
    expect(() => loadAgentConfig({ yaml, env }, read)).toThrow(/restapi.authentication="username only"; needs both username and password, or neither/);
  });
});
