import { readFileSync } from 'node:fs';
import { commandWords } from './command-words';
import { hbaLines } from '../postgres/hba';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors';
import { INERT_KEYS, KEY_ALIASES, keyOfPatroniEnv, nearestName, patroniKey, REFUSED_KEYS } from './patroni-keys';
import { FIELDS, type FieldSpec, OPEN_SECTIONS, TYPE_RULES } from './schema';
import { PROTECTED_PARAMETERS } from '../postgres/settings';

/** A key accepted without effect, with the reason (logged once at start). */
export interface ConfigWarning {
  readonly key: string;
  readonly why: string;
}

/** Flat view: dotted key → validated value, and the keys accepted without effect. The typed `AgentConfig` is built from it. */
export type FlatConfig = ReadonlyMap<string, unknown> & { readonly warnings: readonly ConfigWarning[] };

/** Every problem of a configuration, not only the first (`pgha agent --validate-config`). */
export class ConfigErrors extends ConfigError {
  constructor(readonly errors: readonly ConfigError[]) {
    super(errors[0]!.key, errors[0]!.value, errors[0]!.allowed);
  }
}

/** The words a boolean may be given as in the environment. */
export const ENV_TRUE: ReadonlySet<string> = new Set(['true', 'on', 'yes', '1']);
export const ENV_FALSE: ReadonlySet<string> = new Set(['false', 'off', 'no', '0']);

function shown(spec: FieldSpec, value: unknown): unknown {
  return spec.secret ? '<redacted>' : value;
}

function parseEnv(spec: FieldSpec, raw: string): unknown {
  switch (spec.type) {
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (ENV_TRUE.has(v)) return true;
      if (ENV_FALSE.has(v)) return false;
      throw new ConfigError(spec.env!, raw, `must be ${TYPE_RULES.boolean}`);
    }
    case 'integer': {
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(spec.env!, shown(spec, raw), `must be ${TYPE_RULES.integer}`);
      return Number(raw.trim());
    }
    case 'integer-list':
      return raw.trim().startsWith('[')
        ? jsonEnv(spec, raw)
        : raw
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
            .map(Number);
    case 'hba-lines':
      return jsonEnv(spec, raw);
    case 'string-map':
    case 'ports':
    case 'parameters':
      return jsonEnv(spec, raw);
    default:
      return raw;
  }
}

function jsonEnv(spec: FieldSpec, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ConfigError(spec.env!, raw, 'must be valid JSON');
  }
}

function checkType(spec: FieldSpec, value: unknown): unknown {
  const fail = (allowed: string): never => {
    throw new ConfigError(spec.key, shown(spec, value), allowed);
  };
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string' || value.length === 0) fail(`must be ${TYPE_RULES.string}`);
      if (spec.pattern && !spec.pattern.re.test(value as string)) fail(`must be ${spec.pattern.describe}`);
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) fail(`must be ${TYPE_RULES.integer}`);
      if (spec.min !== undefined && (value as number) < spec.min) fail(`must be at least ${spec.min}`);
      if (spec.max !== undefined && (value as number) > spec.max) fail(`must be at most ${spec.max}`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') fail(`must be ${TYPE_RULES.boolean}`);
      return value;
    case 'integer-list':
      if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v) && v >= 100 && v <= 599)) fail(`must be ${TYPE_RULES['integer-list']}`);
      return value;
    case 'hba-lines':
      return hbaLines(spec.key, value);
    case 'command': {
      if (typeof value !== 'string' || value.trim().length === 0) fail(`must be ${TYPE_RULES.command}`);
      let words: string[] = [];
      try {
        words = commandWords(value as string);
      } catch (err) {
        fail(`must be a command line with balanced quotes (${(err as Error).message})`);
      }
      if (words.length === 0) fail('must name a program');
      return value;
    }
    case 'string-map':
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
        fail(`must be ${TYPE_RULES['string-map']}`);
      }
      return value;
    case 'parameters':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`must be ${TYPE_RULES.parameters}`);
      for (const [k, v] of Object.entries(value as object)) {
        if (!['string', 'number', 'boolean'].includes(typeof v)) throw new ConfigError(`${spec.key}.${k}`, v, 'must be a string, number or boolean');
      }
      return value;
    case 'ports':
      if (
        !Array.isArray(value) ||
        value.length === 0 ||
        !value.every(
          (p) =>
            typeof p === 'object' &&
            p !== null &&
            Number.isInteger((p as { port?: unknown }).port) &&
            (p as { port: number }).port > 0 &&
            (p as { port: number }).port < 65536,
        )
      ) {
        fail(`must be ${TYPE_RULES.ports}`);
      }
      return value;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why an unknown key is refused: the keys allowed beside it, and the one probably meant. */
function unknownKey(key: string, prefix: string, value: unknown, known: readonly string[]): ConfigError {
  const siblings = [
    ...new Set(known.filter((f) => f.startsWith(prefix ? `${prefix}.` : '')).map((f) => (prefix ? f.slice(prefix.length + 1) : f).split('.')[0]!)),
  ].sort();
  const name = prefix ? key.slice(prefix.length + 1) : key;
  const meant = nearestName(name, siblings);
  return new ConfigError(
    key,
    value,
    `unknown key${meant ? `; did you mean ${prefix ? `${prefix}.` : ''}${meant}?` : ''}; allowed${prefix ? ` under ${prefix}` : ''}: ${siblings.join(', ')}`,
  );
}

/**
 * Flattens the YAML document into dotted keys. Patroni keys the agent does not carry out are left out with a warning,
 * or refused (patroni-keys.ts); other unknown keys are errors, every one collected.
 */
function flattenFile(doc: unknown, warnings: ConfigWarning[], errors: ConfigError[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const knownList = [...FIELDS.map((f) => f.key), ...OPEN_SECTIONS, ...Object.keys(KEY_ALIASES)];
  const known = new Set(knownList);
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      const refused = patroniKey(REFUSED_KEYS, key);
      const inert = patroniKey(INERT_KEYS, key);
      if (refused) errors.push(new ConfigError(key, v, `is not supported: ${refused.why}`));
      else if (inert) warnings.push({ key, why: inert.why });
      else if (KEY_ALIASES[key]) out.set(KEY_ALIASES[key], v);
      else if (known.has(key)) out.set(key, v);
      else if (isPlainObject(v) && knownList.some((f) => f.startsWith(`${key}.`))) walk(v, key);
      else errors.push(unknownKey(key, prefix, v, knownList));
    }
  };
  if (doc === null || doc === undefined) return out;
  if (!isPlainObject(doc)) throw new ConfigError('(file)', typeof doc, 'the configuration file must be a YAML mapping');
  walk(doc, '');
  return out;
}

/**
 * `bootstrap` beyond `dcs`: the agent bootstraps with initdb's defaults. A custom method is refused (the members would
 * create an empty cluster instead of restoring one); the rest is accepted with a warning.
 */
function checkBootstrap(bootstrap: unknown, warnings: ConfigWarning[], errors: ConfigError[]): void {
  if (!isPlainObject(bootstrap)) return;
  for (const [k, v] of Object.entries(bootstrap)) {
    const key = `bootstrap.${k}`;
    if (k === 'dcs') continue;
    if (k === 'method' && v !== 'initdb')
      errors.push(
        new ConfigError(key, v, 'is not supported: custom bootstrap methods are not carried out; the members would create an empty cluster (only initdb)'),
      );
    else if (k !== 'method') warnings.push({ key, why: "the cluster is bootstrapped with initdb's defaults; only bootstrap.dcs is read" });
  }
}

/** Read outside FIELDS (the logger). */
const OTHER_ENV = new Set(['PATRONI_LOG_LEVEL']);

/**
 * `PATRONI_*` variables the agent does not read: refused where the file key would be, with a warning otherwise, so
 * a setting never goes unnoticed (a client-certificate check that is not made, say).
 */
function checkPatroniEnv(env: NodeJS.ProcessEnv, warnings: ConfigWarning[], errors: ConfigError[]): void {
  const read = new Set(FIELDS.flatMap((f) => (f.env ? [f.env] : [])));
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('PATRONI_') || read.has(name) || OTHER_ENV.has(name) || env[name] === undefined) continue;
    const key = keyOfPatroniEnv(name);
    const refused = key ? patroniKey(REFUSED_KEYS, key) : undefined;
    const inert = key ? patroniKey(INERT_KEYS, key) : undefined;
    if (refused) errors.push(new ConfigError(name, '<set>', `is not supported: ${refused.why}`));
    else warnings.push({ key: name, why: inert?.why ?? 'pgha does not read this variable' });
  }
}

/**
 * Parameters the agent sets itself, in a member's file (Patroni's own harness sets some of them): left out with a
 * warning, as Patroni overrides them too. The construct refuses them instead (`normalizeParameters`).
 */
function withoutManagedParameters(params: unknown, warnings: ConfigWarning[]): unknown {
  if (!isPlainObject(params)) return params;
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (PROTECTED_PARAMETERS.has(name.toLowerCase())) warnings.push({ key: `postgresql.parameters.${name}`, why: 'pgha sets it itself' });
    else kept[name] = value;
  }
  return kept;
}

export interface ConfigSources {
  /** YAML text of the configuration file. */
  readonly yaml?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Reads the file (if any) and the environment, checks every key, applies defaults. Throws `ConfigErrors` with every
 * problem found.
 */
export function loadFlatConfig(sources: ConfigSources): FlatConfig {
  let doc: unknown;
  try {
    doc = sources.yaml ? parseYaml(sources.yaml) : undefined;
  } catch (err) {
    throw new ConfigError('(file)', (err as Error).message.split('\n')[0], 'the configuration file must be valid YAML');
  }
  const warnings: ConfigWarning[] = [];
  const errors: ConfigError[] = [];
  const file = flattenFile(doc, warnings, errors);
  if (file.has('postgresql.parameters')) file.set('postgresql.parameters', withoutManagedParameters(file.get('postgresql.parameters'), warnings));
  const env = sources.env ?? {};
  checkPatroniEnv(env, warnings, errors);
  checkBootstrap(file.get('bootstrap'), warnings, errors);
  const flat = new Map<string, unknown>();
  for (const spec of FIELDS) {
    try {
      const raw = spec.env !== undefined ? env[spec.env] : undefined;
      let value: unknown = raw !== undefined && raw !== '' ? parseEnv(spec, raw) : file.get(spec.key);
      if (value === undefined || value === null) value = spec.default;
      if (value === undefined) {
        if (spec.required) throw new ConfigError(spec.key, undefined, `is required${spec.env ? ` (set it in the file or ${spec.env})` : ''}`);
        continue;
      }
      flat.set(spec.key, checkType(spec, value));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push(err);
    }
  }
  if (errors.length) throw new ConfigErrors(errors);
  for (const key of OPEN_SECTIONS) if (file.has(key) && !flat.has(key)) flat.set(key, file.get(key));
  return Object.assign(flat, { warnings });
}

/** Reads a configuration file from disk and loads it with the environment. */
export function loadFlatConfigFile(path: string | undefined, env: NodeJS.ProcessEnv): FlatConfig {
  let yaml: string | undefined;
  if (path) {
    try {
      yaml = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError('--config', path, `must be a readable file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return loadFlatConfig({ yaml, env });
}
