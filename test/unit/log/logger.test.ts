import { jsonLogger, logLevelFromEnv } from '../../../agent/src/log/logger';

describe('jsonLogger', () => {
  const capture = (level?: 'debug' | 'info' | 'warn' | 'error') => {
    const lines: Record<string, unknown>[] = [];
    const logger = jsonLogger({ level, write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>), now: () => new Date(0) });
    return { logger, lines };
  };

  it('writes one JSON line with fixed text and the data in fields', () => {
    const { logger, lines } = capture();
    logger.child('ha', { member: 'a' }).info('acquired the lock', { previous: 'b' });
    expect(lines).toEqual([{ ts: '1970-01-01T00:00:00.000Z', level: 'info', component: 'ha', member: 'a', msg: 'acquired the lock', previous: 'b' }]);
  });

  it('never lets data overwrite the reserved fields', () => {
    const { logger, lines } = capture();
    logger.child('x', { component: 'y' }).warn('real message', { level: 'debug', msg: 'fake', ts: 'then' });
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'real message', component: 'x', field_level: 'debug', field_msg: 'fake', field_ts: 'then' });
  });

  it('drops lines below its level', () => {
    const { logger, lines } = capture('warn');
    logger.info('no');
    logger.error('yes');
    expect(lines.map((l) => l.msg)).toEqual(['yes']);
  });
});

describe('logLevelFromEnv', () => {
  it.each([
    [{}, 'info'],
    [{ PGHA_LOG_LEVEL: 'debug' }, 'debug'],
    [{ PGHA_LOG_LEVEL: 'error' }, 'error'],
    [{ PATRONI_LOG_LEVEL: 'WARNING' }, 'warn'],
    [{ PATRONI_LOG_LEVEL: 'CRITICAL' }, 'error'],
    [{ PGHA_LOG_LEVEL: 'warn', PATRONI_LOG_LEVEL: 'DEBUG' }, 'warn'],
  ] as const)('%j -> %s', (env, level) => {
    expect(logLevelFromEnv(env)).toBe(level);
  });

  it('fails naming an unknown level', () => {
    expect(() => logLevelFromEnv({ PGHA_LOG_LEVEL: 'loud' })).toThrow(
      'invalid log level "loud" (PGHA_LOG_LEVEL or PATRONI_LOG_LEVEL); allowed: debug, info, warn (warning), error (critical)',
    );
  });
});
