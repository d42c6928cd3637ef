import fc from 'fast-check';
import { formatLsn, parseLsn, parseOptionalLsn } from '../../../agent/src/postgres/lsn';

describe('LSN', () => {
  test.each([
    ['0/0', 0n],
    ['0/3000060', 0x3000060n],
    ['16/B374D848', (0x16n << 32n) + 0xb374d848n],
    ['FFFFFFFF/FFFFFFFF', (1n << 64n) - 1n],
  ])('parses %s', (text, bytes) => {
    expect(parseLsn(text)).toBe(bytes);
    expect(formatLsn(bytes)).toBe(text);
  });

  test('accepts lower case and prints upper case', () => {
    expect(formatLsn(parseLsn('1/abc'))).toBe('1/ABC');
  });

  test('round-trips every 64-bit position', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (b) => parseLsn(formatLsn(b)) === b));
  });

  test('orders like the byte positions', () => {
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
  });

  test.each(['', '0', '0/', '/1', '0/1/2', '123456789/0', 'G/0', '-1/0', '0x1/0'])('fails on %j', (bad) => {
    expect(() => parseLsn(bad)).toThrow(RangeError);
  });

  test('fails to format a position outside 64 bits', () => {
    expect(() => formatLsn(-1n)).toThrow(RangeError);
    expect(() => formatLsn(1n << 64n)).toThrow(RangeError);
  });

  test('passes null through', () => {
    expect(parseOptionalLsn(null)).toBeUndefined();
    expect(parseOptionalLsn('0/10')).toBe(16n);
  });
});
