import { childEnvironment } from '../../../agent/src/postgres/run-as';

describe('childEnvironment', () => {
  const parent = {
    PATH: '/usr/lib/postgresql/15/bin:/usr/bin',
    HOME: '/var/lib/pgha',
    PATRONI_SUPERUSER_PASSWORD: 'secret',
    PGPASSWORD: 'stray',
    LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libnss_wrapper.so',
    NSS_WRAPPER_PASSWD: '/tmp/pgha-nss.x/passwd',
    NSS_WRAPPER_GROUP: '/tmp/pgha-nss.x/group',
  };

  it('keeps the nss_wrapper settings an arbitrary UID needs for initdb and postgres', () => {
    const env = childEnvironment({}, parent);
    expect(env.LD_PRELOAD).toBe(parent.LD_PRELOAD);
    expect(env.NSS_WRAPPER_PASSWD).toBe(parent.NSS_WRAPPER_PASSWD);
    expect(env.NSS_WRAPPER_GROUP).toBe(parent.NSS_WRAPPER_GROUP);
    expect(env.HOME).toBe('/var/lib/pgha');
  });

  it('never passes passwords or stray libpq variables on', () => {
    const env = childEnvironment({ PGPASSFILE: '/run/pass' }, parent);
    expect(env.PATRONI_SUPERUSER_PASSWORD).toBeUndefined();
    expect(env.PGPASSWORD).toBeUndefined();
    expect(env.PGPASSFILE).toBe('/run/pass');
  });

  it("leaves the agent's HOME out when the child runs as another user (its TLS client files would be looked up there)", () => {
    expect(childEnvironment({}, parent, { switchesUser: true }).HOME).toBeUndefined();
  });

  it('adds nothing when the parent has no nss_wrapper settings', () => {
    expect(Object.keys(childEnvironment({}, { PATH: '/bin' })).sort()).toEqual(['LANG', 'LC_MESSAGES', 'PATH']);
  });
});
