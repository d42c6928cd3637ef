import { parseCommand, UsageError } from '../../../agent/src/cli/dispatch';

describe('parseCommand', () => {
  it.each([
    [['agent', '--config', '/etc/pgha.yml'], { command: 'agent', configFile: '/etc/pgha.yml' }],
    [['agent', '--config=/x.yml'], { command: 'agent', configFile: '/x.yml' }],
    [['agent'], { command: 'agent', configFile: undefined }],
    [[], { command: 'help' }],
  ])('parses %p', (argv, cmd) => {
    expect(parseCommand(argv)).toEqual(cmd);
  });
  it.each([[['agnet']], [['agent', '--config']], [['agent', '--verbose']]])('fails on %p with the usage', (argv) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(/usage: pgha agent/);
  });
});
