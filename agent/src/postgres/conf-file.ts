/**
 * The `postgresql.conf` syntax of the files the agent owns. Values are always written single-quoted (Postgres
 * accepts quoted numbers and booleans), so a value can never break out of its line.
 */

export type SettingValue = string | number | boolean;

/** Postgres' name syntax for a setting, including custom `extension.name` settings. */
export const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

export function isValidSettingName(name: string): boolean {
  return SETTING_NAME.test(name);
}

/** The text Postgres will see for a value (booleans as on/off). */
export function settingText(value: SettingValue): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value);
}

/** Quotes a value for a configuration file: `'` doubles and `\` is escaped. */
export function quoteConfValue(value: SettingValue): string {
  const text = settingText(value);
  if (/[\r\n\0]/.test(text)) throw new RangeError('a setting value cannot contain a line break or NUL');
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** Renders settings one per line, sorted by name, under a header comment. */
export function renderConfFile(header: string, settings: Readonly<Record<string, SettingValue>>): string {
  const lines = [`# ${header}`, '# Written by pgha; edits are overwritten.'];
  for (const name of Object.keys(settings).sort()) {
    if (!isValidSettingName(name)) throw new RangeError(`not a PostgreSQL setting name: ${JSON.stringify(name)}`);
    lines.push(`${name} = ${quoteConfValue(settings[name]!)}`);
  }
  return `${lines.join('\n')}\n`;
}

const LINE = /^\s*([A-Za-z_][A-Za-z0-9_$.]*)\s*=\s*'((?:[^'\\]|''|\\.)*)'\s*$/;

/** Reads back a file written by `renderConfFile` (values as text). Lines in any other shape are ignored. */
export function parseConfFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    out[m[1]!.toLowerCase()] = m[2]!.replace(/''/g, "'").replace(/\\(.)/g, '$1');
  }
  return out;
}
