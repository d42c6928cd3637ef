// `pgha agent --validate-config FILE`, as a Patroni user runs `patroni --validate-config`: the compiled binary checks
// the file and the environment without starting anything, lists every problem and every key without effect, and
// exits 0 when the agent would start, 1 when it would not.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentBuild, workDir } from '../agent/harness';
import { runPgha } from './run-pgha';

const dir = workDir('validate');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { PATRONI_NAME: 'db-0', PATRONI_KUBERNETES_POD_IP: '192.0.2.10', PATRONI_SUPERUSER_PASSWORD: 's', PATRONI_REPLICATION_PASSWORD: 'r' };

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

beforeAll(() => agentBuild(), 180_000);

it('passes a Patroni member file, naming each key it will not carry out', async () => {
  const path = file(
    'patroni.yml',
    [
      'scope: db',
      'kubernetes: {namespace: prod, use_endpoints: true}',
      'postgresql:',
      '  callbacks: {on_start: /bin/true}',
      '  before_stop: /bin/true',
      '  pg_hba: [host all all all md5]',
      'watchdog: {mode: automatic}',
      '',
    ].join('\n'),
  );
  const r = await runPgha(['agent', '--validate-config', path], env);
  expect(r.stderr).toBe('');
  expect(
    r.stdout
      .split('\n')
      .filter((l) => l.startsWith('warning: '))
      .sort(),
  ).toEqual([
    'warning: postgresql.before_stop: no effect: not run: PostgreSQL is stopped without it',
    'warning: watchdog: no effect: the fence watchdog beside the agent stops a primary whose lease is over (see README, Fencing)',
  ]);
  expect(r.stdout).toContain(`${path}: valid`);
  expect(r.code).toBe(0);
});

it('lists every problem and exits 1', async () => {
  const path = file('broken.yml', ['scope: db', 'loopwait: 3', 'ttl: thirty', 'consul: {host: 192.0.2.5}', ''].join('\n'));
  const r = await runPgha(['agent', '--validate-config', path], env);
  const errors = r.stdout.split('\n').filter((l) => l.startsWith('error: '));
  expect(errors).toHaveLength(3);
  expect(errors.join('\n')).toMatch(/loopwait=3; unknown key; did you mean loop_wait\?/);
  expect(errors.join('\n')).toMatch(/ttl="thirty"; must be a whole number/);
  expect(errors.join('\n')).toMatch(/consul=.*is not supported: pgha keeps its state in Kubernetes objects only/);
  expect(r.code).toBe(1);
});
