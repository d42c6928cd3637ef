/**
 * The dynamic configuration: the `config` annotation of `<scope>-config` (JSON, Patroni's keys). Read on every loop
 * run; a value that cannot be read keeps the last good one (and is reported), so a bad edit never stops the agent.
 */
import { ConfigError } from '../errors';
import { hbaLines } from '../postgres/hba';

export interface DynamicConfig {
  readonly pause: boolean;
  readonly maximumLagOnFailover?: number;
  readonly synchronousMode: boolean;
  readonly synchronousModeStrict: boolean;
  readonly synchronousNodeCount: number;
  readonly primaryStartTimeout?: number;
  /** Seconds; undefined when not set dynamically. */
  readonly ttl?: number;
  readonly loopWait?: number;
  readonly retryTimeout?: number;
  /** `postgresql.parameters`. */
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  /** `postgresql.pg_hba`: client lines of pg_hba.conf; undefined when not set dynamically. */
  readonly pgHba?: readonly string[];
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
  parameters: {},
  raw: {},
});

/** A whole number of at least `min` (and at most `max`), as a JSON number or a string of digits. */
function intRule(min: number, max = 2_147_483_647) {
  return (v: unknown): string | null => {
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max ? null : `must be a whole number from ${min} to ${max}`;
  };
}
const boolRule = (v: unknown): string | null =>
  typeof v === 'boolean' || v === 'true' || v === 'false' || v === 'on' || v === 'off' ? null : 'must be true or false';

/** The keys of the dynamic configuration the agent reads, with what each may hold. Other keys are kept as they are. */
const RULES: Readonly<Record<string, (v: unknown) => string | null>> = {
  ttl: intRule(5, 3600),
  loop_wait: intRule(1, 3600),
  retry_timeout: intRule(1, 3600),
  maximum_lag_on_failover: intRule(0, Number.MAX_SAFE_INTEGER),
  primary_start_timeout: intRule(0),
  master_start_timeout: intRule(0),
  synchronous_node_count: intRule(1),
  synchronous_mode: (v) => (v === 'quorum' || boolRule(v) === null ? null : 'must be true, false or "quorum"'),
  synchronous_mode_strict: boolRule,
  pause: boolRule,
  postgresql: (v) => (isObject(v) ? null : 'must be an object'),
};

/**
 * Checks a whole dynamic configuration (what PATCH/PUT /config would store, or what `<scope>-config` holds): every
 * problem as `key: value rule`. Empty when it may be applied.
 */
export function validateDynamicConfig(raw: Readonly<Record<string, unknown>>, own?: Timing): string[] {
  const problems: string[] = [];
  const show = (v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v));
  for (const [key, rule] of Object.entries(RULES)) {
    if (raw[key] === undefined || raw[key] === null) continue;
    const why = rule(raw[key]);
    if (why) problems.push(`${key}: ${show(raw[key])} ${why}`);
  }
  const pg = isObject(raw.postgresql) ? raw.postgresql : {};
  const params = pg.parameters;
  if (params !== undefined && params !== null && !isObject(params)) problems.push(`postgresql.parameters: ${show(params)} must be an object`);
  for (const [k, v] of Object.entries(isObject(params) ? params : {})) {
    const scalar = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
    if (!scalar && v !== null) problems.push(`postgresql.parameters.${k}: ${show(v)} must be a string, a finite number or a boolean`);
  }
  if (pg.pg_hba !== undefined && pg.pg_hba !== null) {
    try {
      hbaLines('postgresql.pg_hba', pg.pg_hba);
    } catch (err) {
      problems.push(err instanceof ConfigError ? `${err.key}: ${show(err.value)} ${err.allowed}` : String(err));
    }
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
      // Patroni's earlier name is still read when the new one is absent.
      primaryStartTimeout: num(raw.primary_start_timeout) ?? num(raw.master_start_timeout),
      ttl: num(raw.ttl),
      loopWait: num(raw.loop_wait),
      retryTimeout: num(raw.retry_timeout),
      parameters,
      ...(Array.isArray(pg?.pg_hba) ? { pgHba: Object.freeze([...(pg.pg_hba as string[])]) } : {}),
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
