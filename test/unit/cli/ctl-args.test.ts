import { parseCommand, UsageError } from '../../../agent/src/cli/dispatch';
import { CTL_COMMAND_SPECS, CTL_COMMANDS, parseCtlArgs } from '../../../agent/src/cli/ctl-args';

describe('parseCtlArgs', () => {
  it('parses the target options for every command', () => {
    const cmd = parseCtlArgs('list', ['-c', '/etc/pgha.yml', '--scope', 'demo', '-n', 'db', '--kubeconfig=/k', '--context', 'c', '--use-endpoints', '--json']);
    expect(cmd.target).toEqual({ configFile: '/etc/pgha.yml', scope: 'demo', namespace: 'db', kubeconfig: '/k', context: 'c', useEndpoints: true });
    expect(cmd.json).toBe(true);
  });

  it('gives every field its default when no option is given', () => {
    expect(parseCtlArgs('list', [])).toEqual({
      command: 'ctl',
      name: 'list',
      target: {},
      json: false,
      members: [],
      sets: [],
      pgParams: [],
      pending: false,
      force: false,
    });
  });

  it('parses a switchover with leader, candidate, schedule and timeout', () => {
    const cmd = parseCtlArgs('switchover', ['--leader', 'a', '--candidate=b', '--scheduled', '2030-01-01T00:00:00+00:00', '--timeout', '30']);
    expect(cmd).toMatchObject({ name: 'switchover', leader: 'a', candidate: 'b', scheduled: '2030-01-01T00:00:00+00:00', timeoutSeconds: 30 });
  });

  it('takes --opt=value inline and one-letter options with their value attached', () => {
    expect(parseCtlArgs('pause', ['--timeout=5']).timeoutSeconds).toBe(5);
    expect(parseCtlArgs('list', ['--namespace=db', '--config=/f', '--scope=']).target).toEqual({ namespace: 'db', configFile: '/f', scope: '' });
    expect(parseCtlArgs('list', ['-ndb']).target.namespace).toBe('db');
  });

  it('accepts patronictl spellings of the leader option', () => {
    expect(parseCtlArgs('switchover', ['--master', 'a']).leader).toBe('a');
    expect(parseCtlArgs('switchover', ['--primary', 'a']).leader).toBe('a');
    expect(parseCtlArgs('failover', ['--candidate', 'b', '--primary=a']).leader).toBe('a');
  });

  it.each([['--force'], ['-f'], ['--yes'], ['-y']])('takes %s as the force switch', (flag) => {
    expect(parseCtlArgs('reinit', ['m1', flag]).force).toBe(true);
    expect(parseCtlArgs('failover', ['--candidate', 'b', flag]).force).toBe(true);
  });

  it('collects edit-config changes in order', () => {
    const cmd = parseCtlArgs('edit-config', [
      '--set',
      'ttl=20',
      '-p',
      'max_connections=200',
      '-s',
      'postgresql.use_slots=false',
      '--pg=work_mem=8MB',
      '--set=loop_wait=5',
      '--apply',
      '-',
    ]);
    expect(cmd.sets).toEqual([
      ['ttl', '20'],
      ['postgresql.use_slots', 'false'],
      ['loop_wait', '5'],
    ]);
    expect(cmd.pgParams).toEqual([
      ['max_connections', '200'],
      ['work_mem', '8MB'],
    ]);
    expect(cmd.applyFile).toBe('-');
  });

  it('takes member names for restart and reinit', () => {
    expect(parseCtlArgs('restart', ['m1', 'm2', '--role', 'replica', '--pending'])).toMatchObject({ members: ['m1', 'm2'], role: 'replica', pending: true });
    expect(parseCtlArgs('reinit', ['m1', '--force'])).toMatchObject({ members: ['m1'], force: true });
    expect(parseCtlArgs('restart', ['--', '-odd-name']).members).toEqual(['-odd-name']);
  });

  it('takes a time for a scheduled restart', () => {
    expect(parseCtlArgs('restart', ['m1', '--scheduled', '2030-01-01T10:00:00+00:00'])).toMatchObject({
      members: ['m1'],
      scheduled: '2030-01-01T10:00:00+00:00',
    });
  });

  it.each([
    ['failover', [], /needs --candidate NAME/],
    ['failover', ['--candidate='], /needs --candidate NAME/],
    ['reinit', [], /exactly one MEMBER/],
    ['reinit', ['m1', 'm2'], /exactly one MEMBER/],
    ['list', ['--candidate', 'x'], /does not take --candidate/],
    ['list', ['--candidate'], /pgha list does not take --candidate/],
    ['pause', ['-f'], /pgha pause does not take -f/],
    ['list', ['extra'], /does not take the argument "extra"/],
    ['list', ['--bogus'], /unknown option "--bogus" for pgha list/],
    ['restart', ['-x'], /unknown option "-x" for pgha restart/],
    ['restart', ['-fx'], /unknown option "-x" for pgha restart/],
    ['edit-config', ['--set', 'novalue'], /KEY=VALUE/],
    ['edit-config', ['-p', '=1'], /-p needs KEY=VALUE/],
    ['switchover', ['--timeout', 'soon'], /number of seconds/],
    ['switchover', ['--timeout=-1'], /number of seconds/],
    ['switchover', ['--scheduled', 'tomorrow'], /ISO-8601/],
    ['switchover', ['--leader', 'a', '--candidate', 'a'], /must differ/],
    ['restart', ['--role', 'master'], /primary or replica/],
    ['list', ['--scope'], /pgha list: --scope needs a value \(--scope NAME\)/],
    ['switchover', ['--candidate', 'b', '--leader'], /pgha switchover: --leader needs a value/],
    ['list', ['-n'], /pgha list: -n needs a value/],
    ['list', ['--scope', '--json'], /--scope needs a value .*--scope=--json/],
    ['list', ['--json=yes'], /pgha list: --json takes no value, got "yes"/],
  ] as const)('fails %s %p with a usage error', (name, args, message) => {
    expect(() => parseCtlArgs(name, args)).toThrow(UsageError);
    expect(() => parseCtlArgs(name, args)).toThrow(message);
  });

  it('has one table entry for every command', () => {
    expect(CTL_COMMAND_SPECS.map((c) => c.name).sort()).toEqual([...CTL_COMMANDS].sort());
  });
});

describe('parseCommand with cluster commands', () => {
  it('routes cluster commands to the ctl parser and keeps the agent command', () => {
    expect(parseCommand(['list', '--scope', 'x'])).toMatchObject({ command: 'ctl', name: 'list' });
    expect(parseCommand(['agent', '-c', 'f'])).toEqual({ command: 'agent', configFile: 'f' });
  });
});
