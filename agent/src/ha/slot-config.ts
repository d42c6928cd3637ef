/**
 * `slots` (permanent replication slots) and `ignore_slots` of the dynamic configuration, in Patroni's shapes:
 * `slots: {name: {type: physical}}` (a null, 0 or empty value is physical too) or
 * `{type: logical, database, plugin}`; `ignore_slots: [{name?, type?, database?, plugin?}]`. pgha keeps permanent
 * physical slots only: a logical one is refused, so nobody counts on a slot that would not be there after a failover.
 */
import type { SlotMatcher } from '../core/slot-plan';
import { isValidSlotName } from '../postgres/slot-name';

export interface SlotConfig {
  /** The permanent physical slots, by name. */
  readonly permanent: readonly string[];
  readonly ignore: readonly SlotMatcher[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => JSON.stringify(v);
const MATCHER_KEYS = ['name', 'type', 'database', 'plugin'];

/** What is wrong with a set `slots` value, each as `key: value rule`. */
export function slotsProblems(slots: unknown): string[] {
  if (!isObject(slots)) return [`slots: ${show(slots)} must be an object of slot names`];
  return Object.entries(slots).flatMap(([name, value]) => slotProblems(name, value));
}

/** What is wrong with a set `ignore_slots` value, each as `key: value rule`. */
export function ignoreSlotsProblems(ignore: unknown): string[] {
  if (!Array.isArray(ignore)) return [`ignore_slots: ${show(ignore)} must be a list of {name, type, database, plugin} matchers`];
  return ignore.flatMap((m, i) => matcherProblems(`ignore_slots[${i}]`, m));
}

function slotProblems(name: string, value: unknown): string[] {
  const key = `slots.${name}`;
  if (!isValidSlotName(name)) return [`${key}: ${show(name)} is not a valid slot name; use lower-case letters, digits and _, at most 63 characters`];
  if (value === null || value === 0 || value === '') return [];
  if (!isObject(value)) return [`${key}: ${show(value)} must be {type: physical} or {type: logical, database, plugin}`];
  const type = value.type ?? (value.database !== undefined || value.plugin !== undefined ? 'logical' : 'physical');
  if (type === 'physical') return [];
  if (type !== 'logical') return [`${key}.type: ${show(value.type)} must be physical or logical`];
  const problems: string[] = [];
  for (const field of ['database', 'plugin']) {
    if (typeof value[field] !== 'string' || value[field] === '')
      problems.push(`${key}.${field}: ${show(value[field])} must be a non-empty string for a logical slot`);
  }
  if (problems.length) return problems;
  return [`${key}: ${show(value)} is a logical slot; pgha keeps only physical permanent slots (type: physical)`];
}

function matcherProblems(key: string, m: unknown): string[] {
  if (!isObject(m)) return [`${key}: ${show(m)} must be an object with any of name, type, database, plugin`];
  const problems: string[] = [];
  for (const [k, v] of Object.entries(m)) {
    if (!MATCHER_KEYS.includes(k)) problems.push(`${key}.${k}: unknown key; allowed: ${MATCHER_KEYS.join(', ')}`);
    else if (v !== null && (typeof v !== 'string' || v === '')) problems.push(`${key}.${k}: ${show(v)} must be a non-empty string`);
    else if (k === 'type' && v !== null && v !== 'physical' && v !== 'logical') problems.push(`${key}.type: ${show(v)} must be physical or logical`);
  }
  return problems;
}

/** The slot settings of a configuration `slotConfigProblems` accepts. */
export function parseSlotConfig(raw: Readonly<Record<string, unknown>>): SlotConfig {
  const slots = isObject(raw.slots) ? raw.slots : {};
  const permanent = Object.keys(slots).sort();
  const ignore = (Array.isArray(raw.ignore_slots) ? raw.ignore_slots : []).filter(isObject).map((m) => {
    const out: { -readonly [K in keyof SlotMatcher]: SlotMatcher[K] } = {};
    if (typeof m.name === 'string') out.name = m.name;
    if (m.type === 'physical' || m.type === 'logical') out.type = m.type;
    if (typeof m.database === 'string') out.database = m.database;
    if (typeof m.plugin === 'string') out.plugin = m.plugin;
    return Object.freeze(out);
  });
  return Object.freeze({ permanent: Object.freeze(permanent), ignore: Object.freeze(ignore) });
}
