/**
 * The `pgha` cluster commands (`list`, `switchover`, ...). One table, CTL_COMMAND_SPECS, says what each command
 * takes; node:util's parseArgs parses by it, and dispatch.ts writes `pgha help` and `pgha COMMAND --help` from it.
 * Pure: no environment, files or I/O; `UsageError` for anything it cannot accept.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error';

export const CTL_COMMANDS = ['list', 'switchover', 'failover', 'pause', 'resume', 'show-config', 'edit-config', 'history', 'restart', 'reinit'] as const;
export type CtlCommandName = (typeof CTL_COMMANDS)[number];

/** Where the cluster is and how to reach it; every field may also come from `-c FILE` or the environment. */
export interface TargetOptions {
  /** An agent (or patronictl) configuration file to read scope, namespace, kubeconfig and REST credentials from. */
  readonly configFile?: string;
  readonly scope?: string;
  readonly namespace?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Lock and config live on Endpoints rather than ConfigMaps. */
  readonly useEndpoints?: boolean;
}

export interface CtlCommand {
  readonly command: 'ctl';
  readonly name: CtlCommandName;
  readonly target: TargetOptions;
  readonly json: boolean;
  /** Positional arguments: member names for `restart`/`reinit`. */
  readonly members: readonly string[];
  readonly leader?: string;
  readonly candidate?: string;
  /** ISO-8601 time for a scheduled switchover or restart. */
  readonly scheduled?: string;
  /** Seconds to wait for an action to complete before giving up (exit code 4). */
  readonly timeoutSeconds?: number;
  /** `edit-config --set key=value` (dotted keys, YAML values) in order. */
  readonly sets: readonly (readonly [string, string])[];
  /** `edit-config -p name=value`: PostgreSQL parameters. */
  readonly pgParams: readonly (readonly [string, string])[];
  /** `edit-config --apply FILE`: a YAML patch (`-` reads stdin). */
  readonly applyFile?: string;
  /** `restart --pending`: only members with pending_restart. */
  readonly pending: boolean;
  /** `restart --role primary|replica`. */
  readonly role?: 'primary' | 'replica';
  /** `--force`, `-f`, `--yes`, `-y`: patronictl's confirmation skip (pgha never asks); `reinit` sends it along. */
  readonly force: boolean;
}

/** What an option fills in CtlCommand or its target. */
export type CtlOptionKey =
  keyof TargetOptions | 'json' | 'leader' | 'candidate' | 'scheduled' | 'timeout' | 'set' | 'pg' | 'apply' | 'role' | 'pending' | 'force';

export interface CtlOptionSpec {
  readonly key: CtlOptionKey;
  /** Every spelling: long (`--leader`) and one-letter (`-f`) ones; the first is the one synopses show. */
  readonly flags: readonly string[];
  /** The value's placeholder in help (`NAME`); absent for a switch, which takes no value. */
  readonly value?: string;
  /** May be given more than once; every value is kept, in order. */
  readonly repeatable?: boolean;
  /** The command does not run without it. */
  readonly required?: boolean;
  readonly help: string;
}

export interface CtlCommandSpec {
  readonly name: CtlCommandName;
  /** Member names after the command: none (absent), any number (`[MEMBER...]`) or exactly one (`MEMBER`). */
  readonly members?: 'any' | 'one';
  readonly summary: string;
  /** Its own options; SHARED_OPTIONS come on top. */
  readonly options: readonly CtlOptionSpec[];
}

/** Options every cluster command takes: where the cluster is, and the output format. */
export const SHARED_OPTIONS: readonly CtlOptionSpec[] = [
  { key: 'configFile', flags: ['-c', '--config'], value: 'FILE', help: 'agent or patronictl configuration to read the target from' },
  { key: 'scope', flags: ['--scope'], value: 'NAME', help: 'the cluster (its scope)' },
  { key: 'namespace', flags: ['-n', '--namespace'], value: 'NS', help: 'its namespace' },
  { key: 'kubeconfig', flags: ['--kubeconfig'], value: 'FILE', help: 'the kubeconfig to use' },
  { key: 'context', flags: ['--context'], value: 'NAME', help: 'the kubeconfig context to use' },
  { key: 'useEndpoints', flags: ['--use-endpoints'], help: 'the lock and configuration are Endpoints, not ConfigMaps' },
  { key: 'json', flags: ['--json'], help: 'JSON on stdout instead of a table' },
];

const FORCE_FLAGS = ['--force', '-f', '--yes', '-y'];
/** patronictl's confirmation skip; pgha never asks, so scripts written for patronictl run unchanged. */
const NO_PROMPT: CtlOptionSpec = { key: 'force', flags: FORCE_FLAGS, help: 'accepted for patronictl scripts; pgha never asks for confirmation' };
const LEADER: CtlOptionSpec = { key: 'leader', flags: ['--leader', '--primary', '--master'], value: 'NAME', help: 'the current leader; refused if it is not' };
const CANDIDATE: CtlOptionSpec = { key: 'candidate', flags: ['--candidate'], value: 'NAME', help: 'the member to promote' };
const timeout = (what: string, seconds: number): CtlOptionSpec => ({
  key: 'timeout',
  flags: ['--timeout'],
  value: 'SECONDS',
  help: `how long to wait for ${what} (default ${seconds}), then exit 4`,
});

export const CTL_COMMAND_SPECS: readonly CtlCommandSpec[] = [
  { name: 'list', summary: 'members, roles, states, timelines and lag', options: [] },
  { name: 'history', summary: 'timeline history', options: [] },
  { name: 'show-config', summary: 'the dynamic configuration (<scope>-config)', options: [] },
  {
    name: 'edit-config',
    summary: 'change the dynamic configuration; without options, in $EDITOR',
    options: [
      { key: 'set', flags: ['--set', '-s'], value: 'KEY=VALUE', repeatable: true, help: 'set a dotted key to a YAML value (null deletes it)' },
      { key: 'pg', flags: ['-p', '--pg'], value: 'PARAM=VALUE', repeatable: true, help: 'set postgresql.parameters.PARAM' },
      { key: 'apply', flags: ['--apply'], value: 'FILE|-', help: 'merge the YAML patch in FILE (- reads stdin)' },
    ],
  },
  {
    name: 'switchover',
    summary: 'hand the leader lock to a healthy replica, now or at a set time',
    options: [
      LEADER,
      { ...CANDIDATE, help: 'the member to promote (default: the healthiest replica)' },
      { key: 'scheduled', flags: ['--scheduled'], value: 'ISO8601', help: 'switch over at this time instead of now' },
      timeout('the lock to move', 60),
      NO_PROMPT,
    ],
  },
  {
    name: 'failover',
    summary: 'promote a replica, also when the cluster has no leader',
    options: [{ ...CANDIDATE, required: true }, LEADER, timeout('the lock to move', 60), NO_PROMPT],
  },
  { name: 'pause', summary: 'stop the agents from managing PostgreSQL (maintenance mode)', options: [timeout("a member's REST API", 5)] },
  { name: 'resume', summary: 'hand management back to the agents', options: [timeout("a member's REST API", 5)] },
  {
    name: 'restart',
    members: 'any',
    summary: 'restart PostgreSQL on the members named (default: all)',
    options: [
      { key: 'role', flags: ['--role'], value: 'primary|replica', help: 'only the members with this role' },
      { key: 'pending', flags: ['--pending'], help: 'only the members with pending_restart' },
      { key: 'scheduled', flags: ['--scheduled'], value: 'ISO8601', help: 'restart at this time (with a time zone) instead of now' },
      NO_PROMPT,
    ],
  },
  {
    name: 'reinit',
    members: 'one',
    summary: "rebuild a replica's data directory from the leader",
    options: [{ ...NO_PROMPT, help: 'sent along as patronictl does; pgha never asks for confirmation' }],
  },
];

export function ctlCommandSpec(name: CtlCommandName): CtlCommandSpec {
  return CTL_COMMAND_SPECS.find((c) => c.name === name)!;
}

/** parseArgs' options: every flag any command knows (refused per command afterwards), and the key of each long name. */
function parseArgsOptions() {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  const keyOf = new Map<string, CtlOptionKey>();
  const spelling = new Map<CtlOptionKey, string>();
  for (const o of [...SHARED_OPTIONS, ...CTL_COMMAND_SPECS.flatMap((c) => c.options)]) {
    const signature = `${o.flags.join(' ')} ${o.value === undefined ? 'switch' : 'value'}`;
    if (spelling.has(o.key) && spelling.get(o.key) !== signature) throw new Error(`option ${o.key}: two spellings in CTL_COMMAND_SPECS`);
    spelling.set(o.key, signature);
    const longs = o.flags.filter((f) => /^--./.test(f)).map((f) => f.slice(2));
    const shorts = o.flags.filter((f) => /^-[^-]$/.test(f)).map((f) => f.slice(1));
    // parseArgs attaches each one-letter spelling to one long name.
    if (longs.length + shorts.length !== o.flags.length || shorts.length > longs.length) throw new Error(`option ${o.key}: cannot spell ${o.flags.join(', ')}`);
    longs.forEach((long, i) => {
      options[long] = { type: o.value === undefined ? 'boolean' : 'string', ...(shorts[i] ? { short: shorts[i] } : {}) };
      keyOf.set(long, o.key);
    });
  }
  return { options, keyOf };
}

const PARSE = parseArgsOptions();

/** One argument as parseArgs reads it (`tokens: true`). */
type Token =
  | { readonly kind: 'option'; readonly name: string; readonly rawName: string; readonly value?: string; readonly inlineValue?: boolean }
  | { readonly kind: 'positional'; readonly value: string }
  | { readonly kind: 'option-terminator' };

/** The options `name` takes, by key: its own and the shared ones. */
function takenOptions(spec: CtlCommandSpec): Map<CtlOptionKey, CtlOptionSpec> {
  return new Map([...SHARED_OPTIONS, ...spec.options].map((o) => [o.key, o]));
}

/** The option a token stands for, or the UsageError that says why `pgha NAME` cannot take it. */
function checkToken(spec: CtlCommandSpec, taken: Map<CtlOptionKey, CtlOptionSpec>, t: Token): CtlOptionSpec | undefined {
  const cmd = `pgha ${spec.name}`;
  if (t.kind === 'option-terminator') return undefined;
  if (t.kind === 'positional') {
    if (!spec.members) throw new UsageError(`${cmd} does not take the argument ${JSON.stringify(t.value)}`);
    return undefined;
  }
  const key = PARSE.keyOf.get(t.name);
  if (key === undefined) throw new UsageError(`unknown option ${JSON.stringify(t.rawName)} for ${cmd}; ${cmd} --help lists its options`);
  const opt = taken.get(key);
  if (!opt) throw new UsageError(`${cmd} does not take ${t.rawName}; ${cmd} --help lists its options`);
  if (opt.value === undefined) {
    if (t.value !== undefined) throw new UsageError(`${cmd}: ${t.rawName} takes no value, got ${JSON.stringify(t.value)}`);
    return opt;
  }
  const usage = `${t.rawName} ${opt.value}`;
  if (t.value === undefined) throw new UsageError(`${cmd}: ${t.rawName} needs a value (${usage})`);
  // `--scope --json`: strict parseArgs will not take an option as the value unless written `--scope=--json`.
  if (!t.inlineValue && t.value.length > 1 && t.value.startsWith('-')) {
    const long = t.rawName.startsWith('--') ? t.rawName : opt.flags.find((f) => f.startsWith('--'));
    throw new UsageError(`${cmd}: ${t.rawName} needs a value (${usage}); to give ${JSON.stringify(t.value)} as one, write ${long}=${t.value}`);
  }
  return opt;
}

/** The command line as parseArgs reads it; its errors become UsageErrors naming the argument and the command. */
function tokenize(spec: CtlCommandSpec, taken: Map<CtlOptionKey, CtlOptionSpec>, args: readonly string[]): Token[] {
  try {
    return parseArgs({ args: [...args], options: PARSE.options, allowPositionals: spec.members !== undefined, strict: true, tokens: true }).tokens;
  } catch (err) {
    if (!String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS_')) throw err;
    // Read the same line leniently and find the argument strict parsing stopped at, to say what is wrong with it.
    for (const t of parseArgs({ args: [...args], options: PARSE.options, allowPositionals: true, strict: false, tokens: true }).tokens as Token[])
      checkToken(spec, taken, t);
    throw new UsageError(`pgha ${spec.name}: ${(err as Error).message}`);
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function keyValue(flag: string, raw: string): readonly [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new UsageError(`${flag} needs KEY=VALUE, got ${JSON.stringify(raw)}`);
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

/** Parses the arguments after the command name. */
export function parseCtlArgs(name: CtlCommandName, args: readonly string[]): CtlCommand {
  const spec = ctlCommandSpec(name);
  const taken = takenOptions(spec);
  const target: Mutable<TargetOptions> = {};
  const cmd: Mutable<Omit<CtlCommand, 'target' | 'members' | 'sets' | 'pgParams'>> = { command: 'ctl', name, json: false, pending: false, force: false };
  const sets: (readonly [string, string])[] = [];
  const pgParams: (readonly [string, string])[] = [];
  const members: string[] = [];
  const given = new Set<CtlOptionKey>();
  for (const t of tokenize(spec, taken, args)) {
    const opt = checkToken(spec, taken, t);
    if (t.kind === 'positional') members.push(t.value);
    if (!opt || t.kind !== 'option') continue;
    const value = t.value ?? '';
    if (opt.value === undefined || value !== '') given.add(opt.key);
    switch (opt.key) {
      case 'configFile':
      case 'scope':
      case 'namespace':
      case 'kubeconfig':
      case 'context':
        target[opt.key] = value;
        break;
      case 'useEndpoints':
        target.useEndpoints = true;
        break;
      case 'json':
      case 'pending':
      case 'force':
        cmd[opt.key] = true;
        break;
      case 'leader':
      case 'candidate':
        cmd[opt.key] = value;
        break;
      case 'apply':
        cmd.applyFile = value;
        break;
      case 'set':
        sets.push(keyValue(t.rawName, value));
        break;
      case 'pg':
        pgParams.push(keyValue(t.rawName, value));
        break;
      case 'timeout':
        if (!/^\d+(\.\d+)?$/.test(value)) throw new UsageError(`--timeout needs a number of seconds, got ${JSON.stringify(value)}`);
        cmd.timeoutSeconds = Number(value);
        break;
      case 'role':
        if (value !== 'primary' && value !== 'replica') throw new UsageError(`--role must be primary or replica, got ${JSON.stringify(value)}`);
        cmd.role = value;
        break;
      case 'scheduled':
        if (Number.isNaN(Date.parse(value))) throw new UsageError(`--scheduled needs an ISO-8601 time, got ${JSON.stringify(value)}`);
        cmd.scheduled = value;
        break;
    }
  }
  for (const o of spec.options) if (o.required && !given.has(o.key)) throw new UsageError(`pgha ${name} needs ${o.flags[0]} ${o.value}`);
  if (spec.members === 'one' && members.length !== 1) throw new UsageError(`pgha ${name} needs exactly one MEMBER`);
  if (cmd.candidate !== undefined && cmd.candidate === cmd.leader) throw new UsageError('--candidate must differ from --leader');
  return { ...cmd, target, members, sets, pgParams };
}
