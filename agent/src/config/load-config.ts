import { readFileSync } from 'node:fs';
import { hbaLines } from '../postgres/hba';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors';
import { FIELDS, type FieldSpec, OPEN_SECTIONS } from './schema';

/** Flat view: dotted key → validated value. The typed `AgentConfig` is built from it. */
export type FlatConfig = ReadonlyMap<string, unknown>;

const TRUE = new Set(['true', 'on', 'yes', '1']);
const FALSE = new Set(['false', 'off', 'no', '0']);

function shown(spec: FieldSpec, value: unknown): unknown {
  return spec.secret ? '<redacted>' : value;
}

function parseEnv(spec: FieldSpec, raw: string): unknown {
  switch (spec.type) {
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw new ConfigError(spec.env!, raw, 'must be true or false');
    }
    case 'integer': {
      if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(spec.env!, shown(spec, raw), 'must be a whole number');
      return Number(raw.trim());
    }
    case 'integer-list':
      return raw.trim().startsWith('[') ? jsonEnv(spec, raw) : raw.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
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
      if (typeof value !== 'string' || value.length === 0) fail('must be a non-empty string');
      if (spec.pattern && !spec.pattern.re.test(value as string)) fail(`must be ${spec.pattern.describe}`);
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) fail('must be a whole number');
      if (spec.min !== undefined && (value as number) < spec.min) fail(`must be at least ${spec.min}`);
      if (spec.max !== undefined && (value as number) > spec.max) fail(`must be at most ${spec.max}`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') fail('must be true or false');
      return value;
    case 'integer-list':
      if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v) && v >= 100 && v <= 599)) fail('must be a list of HTTP status codes (100-599)');
      return value;
    case 'hba-lines':
      return hbaLines(spec.key, value);
    case 'string-map':
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
        fail('must be a map of strings to strings');
      }
      return value;
    case 'parameters':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('must be a map of PostgreSQL setting names to values');
      for (const [k, v] of Object.entries(value as object)) {
        if (!['string', 'number', 'boolean'].includes(typeof v)) throw new ConfigError(`${spec.key}.${k}`, v, 'must be a string, number or boolean');
      }
      return value;
    case 'ports':
      if (
        !Array.isArray(value) ||
        value.length === 0 ||
        !value.every((p) => typeof p === 'object' && p !== null && Number.isInteger((p as { port?: unknown }).port) && (p as { port: number }).port > 0 && (p as { port: number }).port < 65536)
      ) {
        fail('must be a non-empty list of {name, port} with port 1-65535');
      }
      return value;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Flattens the YAML document into dotted keys, refusing keys the agent does not know. */
function flattenFile(doc: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const known = new Set(FIELDS.map((f) => f.key));
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (known.has(key) || OPEN_SECTIONS.includes(key)) {
        out.set(key, v);
      } else if (isPlainObject(v) && [...known].some((f) => f.startsWith(`${key}.`))) {
        walk(v, key);
      } else {
        const siblings = [...known].filter((f) => f.startsWith(prefix ? `${prefix}.` : '')).map((f) => (prefix ? f.slice(prefix.length + 1) : f).split('.')[0]);
        throw new ConfigError(key, v, `unknown key; allowed${prefix ? ` under ${prefix}` : ''}: ${[...new Set(siblings)].sort().join(', ')}`);
      }
    }
  };
  if (doc === null || doc === undefined) return out;
  if (!isPlainObject(doc)) throw new ConfigError('(file)', typeof doc, 'the configuration file must be a YAML mapping');
  walk(doc, '');
  return out;
}

export interface ConfigSources {
  /** YAML text of the configuration file. */
  readonly yaml?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Reads the file (if any) and the environment, checks every key, applies defaults. Throws `ConfigError`. */
export function loadFlatConfig(sources: ConfigSources): FlatConfig {
  let doc: unknown;
  try {
    doc = sources.yaml ? parseYaml(sources.yaml) : undefined;
  } catch (err) {
    throw new ConfigError('(file)', (err as Error).message.split('\n')[0], 'the configuration file must be valid YAML');
  }
  const file = flattenFile(doc);
  const env = sources.env ?? {};
  const flat = new Map<string, unknown>();
  for (const spec of FIELDS) {
    const raw = spec.env !== undefined ? env[spec.env] : undefined;
    let value: unknown = raw !== undefined && raw !== '' ? parseEnv(spec, raw) : file.get(spec.key);
    if (value === undefined || value === null) value = spec.default;
    if (value === undefined) {
      if (spec.required) throw new ConfigError(spec.key, undefined, `is required${spec.env ? ` (set it in the file or ${spec.env})` : ''}`);
      continue;
    }
    flat.set(spec.key, checkType(spec, value));
  }
  for (const key of OPEN_SECTIONS) if (file.has(key) && !flat.has(key)) flat.set(key, file.get(key));
  return flat;
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
