/**
 * The dynamic configuration: the `config` annotation of `<scope>-config` (JSON, Patroni's keys). Read on every loop
 * run; a value that cannot be read keeps the last good one (and is reported), so a bad edit never stops the agent.
 */
import { ConfigError } from '../errors';
import { hbaLines } from '../postgres/hba';
import { DYNAMIC_FIELDS, DYNAMIC_INT_MAX, type DynamicFieldSpec } from './dynamic-fields';
import { ignoreSlotsProblems, parseSlotConfig, type SlotConfig, slotsProblems } from './slot-config';

export interface DynamicConfig {
  readonly pause: boolean;
  readonly maximumLagOnFailover?: number;
  readonly synchronousMode: boolean;
  readonly synchronousModeStrict: boolean;
  readonly synchronousNodeCount: number;
  /** `failsafe_mode`: a leader cut off from the API may go on leading on its members' promises (`core/failsafe.ts`). */
  readonly failsafeMode: boolean;
  readonly primaryStartTimeout?: number;
  /** Seconds; undefined when not set dynamically. */
  readonly ttl?: number;
  readonly loopWait?: number;
  readonly retryTimeout?: number;
  /** `postgresql.parameters`. */
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  /** `postgresql.pg_hba`: client lines of pg_hba.conf; undefined when not set dynamically. */
  readonly pgHba?: readonly string[];
  /** `slots` (permanent physical slots) and `ignore_slots`. */
  readonly slots: SlotConfig;
  /** The raw object, as stored. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export type ParsedConfig = { readonly ok: true; readonly config: DynamicConfig } | { readonly ok: false; readonly error: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === 'on';
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

export const EMPTY_DYNAMIC_CONFIG: DynamicConfig = Object.freeze({
  pause: false,
  synchronousMode: false,
  synchronousModeStrict: false,
  synchronousNodeCount: 1,
  failsafeMode: false,
  parameters: {},
  slots: Object.freeze({ permanent: [], ignore: [] }),
  raw: {},
});

/** A whole number of at least `min` (and at most `max`), as a JSON number or a string of digits. */
function intRule(min: number, max = DYNAMIC_INT_MAX) {
  return (v: unknown): string | null => {
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max ? null : `must be a whole number from ${min} to ${max}`;
  };
}
const boolRule = (v: unknown): string | null =>
  typeof v === 'boolean' || v === 'true' || v === 'false' || v === 'on' || v === 'off' ? null : 'must be true or false';

const show = (v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v));

/** The value at a dotted key; undefined when a section on the way is not an object. */
const valueAt = (raw: unknown, key: string): unknown => key.split('.').reduce<unknown>((node, part) => (isObject(node) ? node[part] : undefined), raw);

/** What is wrong with one key's value, as `key: value rule` lines (DYNAMIC_FIELDS says what each key may hold). */
function fieldProblems(field: DynamicFieldSpec, v: unknown): string[] {
  const one = (why: string | null) => (why ? [`${field.key}: ${show(v)} ${why}`] : []);
  switch (field.type) {
    case 'integer':
      return one(intRule(field.min ?? 0, field.max)(v));
    case 'boolean':
      return one(boolRule(v));
    case 'synchronous-mode':
      return one(v === 'quorum' || boolRule(v) === null ? null : 'must be true, false or "quorum"');
    case 'parameters':
      if (!isObject(v)) return one('must be an object');
      return Object.entries(v).flatMap(([k, p]) => {
        const scalar = typeof p === 'string' || typeof p === 'boolean' || (typeof p === 'number' && Number.isFinite(p));
        return scalar || p === null ? [] : [`${field.key}.${k}: ${show(p)} must be a string, a finite number or a boolean`];
      });
    case 'slots':
      return slotsProblems(v);
    case 'slot-matchers':
      return ignoreSlotsProblems(v);
    case 'hba-lines':
      try {
        hbaLines(field.key, v);
        return [];
      } catch (err) {
        return [err instanceof ConfigError ? `${err.key}: ${show(err.value)} ${err.allowed}` : String(err)];
      }
  }
}

/**
 * Checks a whole dynamic configuration (what PATCH/PUT /config would store, or what `<scope>-config` holds): every
 * problem as `key: value rule`. Empty when it may be applied.
 */
export function validateDynamicConfig(raw: Readonly<Record<string, unknown>>, own?: Timing): string[] {
  const problems: string[] = [];
  const sections = new Set<string>();
  for (const field of DYNAMIC_FIELDS) {
    // A nested key's section (`postgresql`) must be an object: said once, before the keys in it.
    const section = field.key.split('.').slice(0, -1).join('.');
    if (section && !sections.has(section)) {
      sections.add(section);
      const v = valueAt(raw, section);
      if (v !== undefined && v !== null && !isObject(v)) problems.push(`${section}: ${show(v)} must be an object`);
    }
    const v = valueAt(raw, field.key);
    if (v !== undefined && v !== null) problems.push(...fieldProblems(field, v));
  }
  if (problems.length === 0) {
    // The timings that would be in force: the ones given, else (when known) the member's own.
    const n = (k: string, fallback: number | undefined) => (raw[k] === undefined || raw[k] === null ? fallback : Number(raw[k]));
    const [ttl, loopWait, retry] = [n('ttl', own?.ttl), n('loop_wait', own?.loopWait), n('retry_timeout', own?.retryTimeout)];
    if (ttl !== undefined && loopWait !== undefined && retry !== undefined && loopWait + 2 * retry > ttl) {
      problems.push(`ttl: ${ttl} must be at least loop_wait + 2 * retry_timeout = ${loopWait + 2 * retry}`);
    }
  }
  return problems;
}

/** Parses the annotation text. Missing annotation: the empty configuration. */
export function parseDynamicConfig(text: string | undefined): ParsedConfig {
  if (text === undefined || text === '') return { ok: true, config: EMPTY_DYNAMIC_CONFIG };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `config annotation is not JSON: ${(err as Error).message}` };
  }
  if (!isObject(raw)) return { ok: false, error: 'config annotation is not a JSON object' };
  // Refused whole: a value the agent cannot apply is never replaced by a default behind the user's back.
  const problems = validateDynamicConfig(raw);
  if (problems.length) return { ok: false, error: problems.join('; ') };
  const pg = isObject(raw.postgresql) ? raw.postgresql : undefined;
  const params = pg?.parameters;
  const parameters: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(isObject(params) ? params : {})) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') parameters[k] = v;
  }
  const sync = raw.synchronous_mode;
  return {
    ok: true,
    config: Object.freeze({
      pause: bool(raw.pause),
      maximumLagOnFailover: num(raw.maximum_lag_on_failover),
      // Patroni's `quorum` (ANY N) is run as plain synchronous mode: every chosen standby is waited for, which keeps
      // the same guarantee with more waiting.
      synchronousMode: bool(sync) || sync === 'quorum',
      synchronousModeStrict: bool(raw.synchronous_mode_strict),
      synchronousNodeCount: Math.max(1, num(raw.synchronous_node_count) ?? 1),
      failsafeMode: bool(raw.failsafe_mode),
      // Patroni's earlier name is still read when the new one is absent.
      primaryStartTimeout: num(raw.primary_start_timeout) ?? num(raw.master_start_timeout),
      ttl: num(raw.ttl),
      loopWait: num(raw.loop_wait),
      retryTimeout: num(raw.retry_timeout),
      parameters,
      ...(Array.isArray(pg?.pg_hba) ? { pgHba: Object.freeze([...(pg.pg_hba as string[])]) } : {}),
      slots: parseSlotConfig(raw),
      raw,
    }),
  };
}

/**
 * Patroni's PATCH /config merge: objects merge recursively, `null` deletes a key, anything else replaces.
 */
export function mergeConfig(base: Readonly<Record<string, unknown>>, patch: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isObject(v) && isObject(out[k])) out[k] = mergeConfig(out[k], v);
    else if (isObject(v)) out[k] = mergeConfig({}, v);
    else out[k] = v;
  }
  return out;
}

export interface Timing {
  readonly ttl: number;
  readonly loopWait: number;
  readonly retryTimeout: number;
}

/**
 * The timings in force: the dynamic ttl, loop_wait and retry_timeout where set, else the member's own. A
 * combination that breaks `loop_wait + 2 * retry_timeout <= ttl` (a leader could lose its lock while still retrying
 * a renew) or goes below the minimums is not applied; `error` says why.
 */
export function effectiveTiming(own: Timing, dyn: DynamicConfig): { timing: Timing; error?: string } {
  const t = { ttl: dyn.ttl ?? own.ttl, loopWait: dyn.loopWait ?? own.loopWait, retryTimeout: dyn.retryTimeout ?? own.retryTimeout };
  if (t.ttl < 5 || t.loopWait < 1 || t.retryTimeout < 1) return { timing: own, error: 'ttl must be at least 5, loop_wait and retry_timeout at least 1' };
  if (t.loopWait + 2 * t.retryTimeout > t.ttl)
    return { timing: own, error: `ttl must be at least loop_wait + 2 * retry_timeout = ${t.loopWait + 2 * t.retryTimeout}` };
  return { timing: t };
}
