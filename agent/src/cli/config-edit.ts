/**
 * Non-interactive edits of the dynamic configuration: `--set a.b=VALUE`, `-p NAME=VALUE` and a YAML patch file.
 * Pure: computes the new configuration and a readable list of what changed; the caller writes it.
 */
import { parse as parseYaml } from 'yaml';
import { UsageError } from './usage-error';

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A `--set` value: YAML, so `10`, `true`, `null` and `{a: 1}` mean what they say; anything unparseable is a string. */
export function parseValue(raw: string): unknown {
  try {
    return parseYaml(raw) as unknown;
  } catch {
    return raw;
  }
}

/** Turns `a.b.c` and a value into `{a: {b: {c: value}}}`. */
export function dottedPatch(key: string, value: unknown): Json {
  const parts = key.split('.');
  if (parts.some((p) => p === '')) throw new UsageError(`--set key ${JSON.stringify(key)} has an empty part`);
  let out: unknown = value;
  for (const p of parts.reverse()) out = { [p]: out };
  return out as Json;
}

/** Merges `patch` into `base` as Patroni's PATCH /config does: objects merge, `null` deletes, anything else replaces. */
export function mergePatch(base: Readonly<Json>, patch: Readonly<Json>): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isRecord(v) && isRecord(out[k])) out[k] = mergePatch(out[k], v);
    else out[k] = isRecord(v) ? mergePatch({}, v) : v;
  }
  return out;
}

/** One patch from every `--set`, `-p` and the `--apply` document, in that order (later wins). */
export function buildPatch(sets: readonly (readonly [string, string])[], pgParams: readonly (readonly [string, string])[], applied?: string): Json {
  let patch: Json = {};
  for (const [k, v] of sets) patch = mergeKeepingNulls(patch, dottedPatch(k, parseValue(v)));
  for (const [k, v] of pgParams) patch = mergeKeepingNulls(patch, { postgresql: { parameters: { [k]: parseValue(v) } } });
  if (applied !== undefined) {
    let doc: unknown;
    try {
      doc = parseYaml(applied);
    } catch (err) {
      throw new UsageError(`--apply: not valid YAML (${(err as Error).message.split('\n')[0]})`);
    }
    if (doc !== null && doc !== undefined && !isRecord(doc)) throw new UsageError('--apply: the document must be a mapping of configuration keys');
    patch = mergeKeepingNulls(patch, (doc as Json | null) ?? {});
  }
  return patch;
}

/** Like mergePatch, but keeps `null` values so the combined patch still deletes. */
function mergeKeepingNulls(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = isRecord(v) && isRecord(out[k]) ? mergeKeepingNulls(out[k], v) : v;
  return out;
}

/** Dotted keys whose value differs between two configurations, each as `key: old -> new`, sorted. */
export function describeChanges(before: Readonly<Json>, after: Readonly<Json>, prefix = ''): string[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.flatMap((k) => {
    const a = before[k];
    const b = after[k];
    const key = prefix ? `${prefix}.${k}` : k;
    if (isRecord(a) && isRecord(b)) return describeChanges(a, b, key);
    if (JSON.stringify(a) === JSON.stringify(b)) return [];
    const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
    return [`${key}: ${show(a)} -> ${show(b)}`];
  });
}
