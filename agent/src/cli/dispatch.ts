/**
 * Command dispatch for the `pgha` binary: `pgha agent --config FILE` runs the HA agent; `pgha list`, `switchover`
 * and the other cluster commands are parsed by ctl-args.ts. Parsing only: the handlers come from main.ts (the agent)
 * and ctl-main.ts (the cluster commands).
 */
import { CTL_COMMANDS, type CtlCommand, type CtlCommandName, CTL_USAGE, parseCtlArgs } from './ctl-args';
import { UsageError } from './usage-error';

export { UsageError } from './usage-error';
export type { CtlCommand } from './ctl-args';
export interface AgentCommand {
  readonly command: 'agent';
  /** Configuration file; without it, the environment alone configures the agent. */
  readonly configFile?: string;
}

export interface HelpCommand {
  readonly command: 'help';
  /** Help for one command; all of them when absent. */
  readonly topic?: string;
}

export interface VersionCommand {
  readonly command: 'version';
}

export type Command = AgentCommand | HelpCommand | VersionCommand | CtlCommand;

/** One line for error messages; `pgha help` prints the whole USAGE. */
const SHORT_USAGE = `usage: pgha agent [--config FILE] | pgha <${CTL_COMMANDS.join('|')}> [options]; pgha help for details`;
export const USAGE = `usage: pgha agent [--config FILE]\n       pgha <${CTL_COMMANDS.join('|')}> [options]\n\n${CTL_USAGE}`;

const wantsHelp = (args: readonly string[]) => args.includes('--help') || args.includes('-h');

/** The usage of one command (`pgha COMMAND --help`), taken from the same text `pgha help` prints. */
export function commandUsage(topic: string): string {
  if (topic === 'agent') return 'usage: pgha agent [--config FILE]\n  runs the HA agent; the file and the PATRONI_* environment configure it';
  const line = CTL_USAGE.split('\n').find((l) => l.trimStart().startsWith(`pgha ${topic}`) || l.includes(`| ${topic}`));
  const tail = CTL_USAGE.split('\n').slice(CTL_USAGE.split('\n').findIndex((l) => l.startsWith('target:')));
  return [`usage: ${line?.trim() ?? `pgha ${topic}`}`, ...tail].join('\n');
}

export function parseCommand(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { command: 'help', ...(rest[0] ? { topic: rest[0] } : {}) };
  if (command === '--version' || command === 'version') return { command: 'version' };
  const known = command === 'agent' || (CTL_COMMANDS as readonly string[]).includes(command);
  if (known && wantsHelp(rest)) return { command: 'help', topic: command };
  if ((CTL_COMMANDS as readonly string[]).includes(command)) return parseCtlArgs(command as CtlCommandName, rest);
  if (command !== 'agent') throw new UsageError(`unknown command ${JSON.stringify(command)}; ${SHORT_USAGE}`);
  let configFile: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--config' || arg === '-c') {
      configFile = rest[++i];
      if (configFile === undefined) throw new UsageError(`--config needs a file; ${SHORT_USAGE}`);
    } else if (arg.startsWith('--config=')) {
      configFile = arg.slice('--config='.length);
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}; ${SHORT_USAGE}`);
    }
  }
  return { command: 'agent', configFile };
}
