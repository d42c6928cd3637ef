/**
 * Command dispatch for the `pgha` binary: `pgha agent --config FILE` runs the HA agent; later issues add CLI
 * subcommands here. Parsing only: the handlers come from main.ts, the one place that wires components.
 */
export interface AgentCommand {
  readonly command: 'agent';
  /** Configuration file; without it, the environment alone configures the agent. */
  readonly configFile?: string;
}

export interface HelpCommand {
  readonly command: 'help';
}

export type Command = AgentCommand | HelpCommand;

export const USAGE = 'usage: pgha agent [--config FILE]';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseCommand(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (command !== 'agent') throw new UsageError(`unknown command ${JSON.stringify(command)}; ${USAGE}`);
  let configFile: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--config' || arg === '-c') {
      configFile = rest[++i];
      if (configFile === undefined) throw new UsageError(`--config needs a file; ${USAGE}`);
    } else if (arg.startsWith('--config=')) {
      configFile = arg.slice('--config='.length);
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}; ${USAGE}`);
    }
  }
  return { command: 'agent', configFile };
}
