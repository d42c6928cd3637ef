import { jsonLogger } from '../../../agent/src/log/logger';
import type { Logger } from '../../../agent/src/postgres/logger';
import { parseLogLine, PostgresLogPipe } from '../../../agent/src/postgres/postgres-log';
import { sleep } from '../../../agent/src/clock';

interface Rec {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

function collector(): { logger: Logger; records: Rec[] } {
  const records: Rec[] = [];
  const at =
    (level: string) =>
    (msg: string, fields: Readonly<Record<string, unknown>> = {}) =>
      void records.push({ level, msg, fields: { ...fields } });
  return { logger: { info: at('info'), warn: at('warn'), error: at('error') }, records };
}

describe('postgres log re-emission', () => {
  test('splits a prefixed line into fields', () => {
    expect(parseLogLine('2026-11-21 19:35:32.123 UTC [4242] LOG:  database system is ready to accept connections')).toEqual({
      time: '2026-11-21 19:35:32.123 UTC',
      pid: 4242,
      severity: 'LOG',
      message: 'database system is ready to accept connections',
    });
  });

  test('keeps a line in another shape as the message', () => {
    expect(parseLogLine('free text')).toEqual({ severity: 'LOG', message: 'free text' });
  });

  test('maps severities to levels, joins chunks and folds continuation lines', () => {
    const { logger, records } = collector();
    const pipe = new PostgresLogPipe(logger, 'stderr');
    pipe.write('2026-11-21 10:00:00.000 UTC [1] WARNING:  careful\n2026-11-21 10:00:00.001 UTC [2] ERR');
    pipe.write('OR:  broken\n2026-11-21 10:00:00.002 UTC [2] STATEMENT:  SELECT 1\n\tFROM x\n');
    pipe.write('2026-11-21 10:00:00.003 UTC [3] FATAL:  gone');
    pipe.end();
    expect(records.map((r) => [r.level, r.msg, r.fields.severity, r.fields.message, r.fields.pid])).toEqual([
      ['warn', 'postgres log', 'WARNING', 'careful', 1],
      ['error', 'postgres log', 'ERROR', 'broken', 2],
      ['info', 'postgres log', 'STATEMENT', 'SELECT 1\nFROM x', 2],
      ['error', 'postgres log', 'FATAL', 'gone', 3],
    ]);
  });

  test("writes JSON lines through the agent's logger", () => {
    const lines: string[] = [];
    const logger: Logger = jsonLogger({ write: (l) => lines.push(l), now: () => new Date(0) }).child('postgres');
    const pipe = new PostgresLogPipe(logger, 'stderr');
    pipe.write('2026-11-21 10:00:00.000 UTC [7] LOG:  checkpoint starting: time\n');
    pipe.end();
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        ts: '1970-01-01T00:00:00.000Z',
        level: 'info',
        component: 'postgres',
        msg: 'postgres log',
        severity: 'LOG',
        message: 'checkpoint starting: time',
        pid: 7,
        time: '2026-11-21 10:00:00.000 UTC',
        stream: 'stderr',
      },
    ]);
  });

  test('emits a record after a short wait when no further line comes', async () => {
    const { logger, records } = collector();
    const pipe = new PostgresLogPipe(logger, 'stderr');
    pipe.write('2026-11-21 10:00:00.000 UTC [1] LOG:  alone\n');
    expect(records).toHaveLength(0);
    await sleep(200);
    expect(records).toHaveLength(1);
  });
});
