import { commandUsage, parseCommand, UsageError } from '../../../agent/src/cli/dispatch';

describe('parseCommand', () => {
  it.each([
    [['agent', '--config', '/etc/pgha.yml'], { command: 'agent', configFile: '/etc/pgha.yml' }],
    [['agent', '--config=/x.yml'], { command: 'agent', configFile: '/x.yml' }],
    [['agent'], { command: 'agent', configFile: undefined }],
    [[], { command: 'help' }],
    [['--version'], { command: 'version' }],
    [['list', '--help'], { command: 'help', topic: 'list' }],
    [['reinit', '-h'], { command: 'help', topic: 'reinit' }],
    [['help', 'switchover'], { command: 'help', topic: 'switchover' }],
  ])('parses %p', (argv, cmd) => {
    expect(parseCommand(argv)).toEqual(cmd);
  });
  it.each([[['agnet']], [['agent', '--config']], [['agent', '--verbose']]])('fails on %p with the usage', (argv) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(/usage: pgha agent/);
  });
});

describe('commandUsage', () => {
  it('gives one command\'s usage line with the target, output and exit-code notes', () => {
    const text = commandUsage('reinit');
    expect(text.split('\n')[0]).toBe('usage: pgha reinit MEMBER [--force]');
    expect(text).toContain('exit codes: 0 done');
  });

  it('does not offer scheduled restarts, which the agent does not carry out yet', () => {
    expect(commandUsage('restart')).not.toContain('--scheduled');
    expect(() => parseCommand(['restart', '--scheduled', '2030-01-01T00:00:00Z'])).toThrow('pgha restart does not take --scheduled');
  });
});
