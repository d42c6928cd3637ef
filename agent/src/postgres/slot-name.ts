/**
 * The physical replication slot a member streams from. Patroni derives it from the member name, and pgha uses the
 * same mapping so a cluster can mix both agents (and the slots a Patroni leader created keep working):
 * lower-case; `-` and `.` become `_`; any other character outside `[a-z0-9_]` becomes `u` plus its code point in
 * decimal, padded to four digits; the result is cut to 63 characters (Postgres' name limit).
 */
export function slotNameForMember(memberName: string): string {
  let out = '';
  for (const ch of memberName.toLowerCase()) {
    if (/^[a-z0-9_]$/.test(ch)) out += ch;
    else if (ch === '-' || ch === '.') out += '_';
    else out += `u${String(ch.codePointAt(0)).padStart(4, '0')}`;
  }
  return out.slice(0, 63);
}

const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

/** True when Postgres accepts `name` as a replication slot name. */
export function isValidSlotName(name: string): boolean {
  return SLOT_NAME.test(name);
}
