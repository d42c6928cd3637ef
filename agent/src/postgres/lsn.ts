/**
 * PostgreSQL write-ahead-log positions. Postgres prints an LSN as two hexadecimal halves (`16/B374D848`); the agent
 * compares and subtracts them, and Patroni publishes them as byte offsets, so they are carried as bigint bytes.
 */

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** Parses `"0/3000060"` into a byte position. Throws on anything that is not an LSN. */
export function parseLsn(text: string): bigint {
  const m = LSN_TEXT.exec(text.trim());
  if (!m) throw new RangeError(`not a PostgreSQL LSN: ${JSON.stringify(text)}; expected two hexadecimal halves like "0/3000060"`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Like `parseLsn`, but passes null (a function that has no position yet) through. */
export function parseOptionalLsn(text: string | null | undefined): bigint | undefined {
  return text === null || text === undefined ? undefined : parseLsn(text);
}

const MAX_LSN = (1n << 64n) - 1n;

/** Formats a byte position the way Postgres prints it (upper-case hexadecimal, no padding). */
export function formatLsn(bytes: bigint): string {
  if (bytes < 0n || bytes > MAX_LSN) throw new RangeError(`LSN out of range: ${bytes}; must be between 0 and 2^64-1`);
  return `${(bytes >> 32n).toString(16).toUpperCase()}/${(bytes & 0xffffffffn).toString(16).toUpperCase()}`;
}
