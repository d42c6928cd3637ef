import { parseCommand, UsageError } from '../../../agent/src/cli/dispatch';
import { parseCtlArgs } from '../../../agent/src/cli/ctl-args';

describe('parseCtlArgs', () => {
  it('parses the target options for every command', () => {
    const cmd = parseCtlArgs('list', ['-c', '/etc/pgha.yml', '--scope', 'demo', '-n', 'db', '--kubeconfig=/k', '--context', 'c', '--use-endpoints', '--json']);
    expect(cmd.target).toEqual({ configFile: '/etc/pgha.yml', scope: 'demo', namespace: 'db', kubeconfig: '/k', context: 'c', useEndpoints: true });
    expect(cmd.json).toBe(true);
  });

  it('parses a switchover with leader, candidate, schedule and timeout', () => {
    const cmd = parseCtlArgs('switchover', ['--leader', 'a', '--candidate=b', '--scheduled', '2030-01-01T00:00:00+00:00', '--timeout', '30']);
    expect(cmd).toMatchObject({ name: 'switchover', leader: 'a', candidate: 'b', scheduled: '2030-01-01T00:00:00+00:00', timeoutSeconds: 30 });
  });

  it('accepts patronictl spellings of the leader option', () => {
    expect(parseCtlArgs('switchover', ['--master', 'a']).leader).toBe('a');
    expect(parseCtlArgs('switchover', ['--primary', 'a']).leader).toBe('a');
  });

  it('collects edit-config changes in order', () => {
    const cmd = parseCtlArgs('edit-config', ['--set', 'ttl=20', '-p', 'max_connections=200', '-s', 'postgresql.use_slots=false', '--apply', '-']);
    expect(cmd.sets).toEqual([['ttl', '20'], ['postgresql.use_slots', 'false']]);
    expect(cmd.pgParams).toEqual([['max_connections', '200']]);
    expect(cmd.applyFile).toBe('-');
  });

  it('takes member names for restart and reinit', () => {
    expect(parseCtlArgs('restart', ['m1', 'm2', '--role', 'replica', '--pending']).members).toEqual(['m1', 'm2']);
    expect(parseCtlArgs('reinit', ['m1', '--force'])).toMatchObject({ members: ['m1'], force: true });
  });

  it.each([
    ['failover', [], /needs --candidate/],
    ['reinit', [], /exactly one MEMBER/],
    ['list', ['--candidate', 'x'], /does not take --candidate/],
    ['list', ['extra'], /does not take the argument/],
    ['list', ['--bogus'], /unknown option "--bogus"/],
    ['edit-config', ['--set', 'novalue'], /KEY=VALUE/],
    ['switchover', ['--timeout', 'soon'], /number of seconds/],
    ['switchover', ['--scheduled', 'tomorrow'], /ISO-8601/],
    ['switchover', ['--leader', 'a', '--candidate', 'a'], /must differ/],
    ['restart', ['--role', 'master'], /primary or replica/],
    ['list', ['--scope'], /needs a value/],
  ] as const)('fails %s %p with a usage error', (name, args, message) => {
    expect(() => parseCtlArgs(name, args)).toThrow(UsageError);
    expect(() => parseCtlArgs(name, args)).toThrow(message);
  });
});

describe('parseCommand with cluster commands', () => {
  it('routes cluster commands to the ctl parser and keeps the agent command', () => {
    expect(parseCommand(['list', '--scope', 'x'])).toMatchObject({ command: 'ctl', name: 'list' });
    expect(parseCommand(['agent', '-c', 'f'])).toEqual({ command: 'agent', configFile: 'f' });
  });
});
