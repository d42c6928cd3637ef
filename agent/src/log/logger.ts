/**
 * JSON-lines logger. One instance is created in main.ts and passed down; components take a child with their name.
 * Messages are fixed text; everything variable goes into fields.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines carry `component` plus `fields`. */
  child(component: string, fields?: LogFields): Logger;
}

export interface JsonLoggerOptions {
  /** @default 'info' */
  readonly level?: LogLevel;
  /** Where lines go. @default process.stdout */
  readonly write?: (line: string) => void;
  /** Wall-clock time for the `ts` field. @default () => new Date() */
  readonly now?: () => Date;
}

/** Turns errors into plain fields (name, message, HTTP status, cause chain) so they survive JSON.stringify. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const out: Record<string, unknown> = { error: err.message, errorClass: err.name };
  const details = (err as { details?: unknown }).details;
  if (details && typeof details === 'object') Object.assign(out, { details });
  if (err.cause !== undefined && err.cause !== err) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a cause may be anything; a string of it is all a log line needs
    const cause = err.cause instanceof Error ? err.cause.message : String(err.cause);
    if (cause !== err.message) out.cause = cause;
  }
  return out;
}

/** Fields every line has; data fields with these names are kept under `field_<name>` instead of replacing them. */
const RESERVED: ReadonlySet<string> = new Set(['ts', 'level', 'msg', 'component']);

function safeFields(fields: LogFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields ?? {})) out[RESERVED.has(k) ? `field_${k}` : k] = v;
  return out;
}

/**
 * The level from `PGHA_LOG_LEVEL`, else Patroni's `PATRONI_LOG_LEVEL` (`DEBUG`, `INFO`, `WARNING`, `ERROR`, any
 * case); `info` when neither is set. An unknown value is an error naming it, not a silent default.
 */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): LogLevel {
  const raw = env.PGHA_LOG_LEVEL ?? env.PATRONI_LOG_LEVEL;
  if (raw === undefined || raw === '') return 'info';
  const v = raw.toLowerCase();
  const level = v === 'warning' ? 'warn' : v === 'critical' ? 'error' : v;
  if (level in ORDER) return level as LogLevel;
  throw new RangeError(
    `invalid log level ${JSON.stringify(raw)} (PGHA_LOG_LEVEL or PATRONI_LOG_LEVEL); allowed: debug, info, warn (warning), error (critical)`,
  );
}

export function jsonLogger(opts: JsonLoggerOptions = {}, base: LogFields = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const now = opts.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    write(`${JSON.stringify({ ts: now().toISOString(), level, ...base, msg, ...safeFields(fields) })}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (component, fields) => jsonLogger(opts, { ...base, ...safeFields(fields), component }),
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
