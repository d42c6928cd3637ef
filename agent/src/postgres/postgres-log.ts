import type { Logger } from './logger';

/** The `log_line_prefix` the agent sets, so each line can be split into fields. */
export const LOG_LINE_PREFIX = '%m [%p] ';

const HEADER = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \S+) \[(\d+)\] ([A-Z0-9]+):  ?(.*)$/;

export interface PostgresLogRecord {
  readonly severity: string;
  readonly message: string;
  readonly pid?: number;
  readonly time?: string;
}

/** Splits one log line written with LOG_LINE_PREFIX; lines in another shape keep their text as the message. */
export function parseLogLine(line: string): PostgresLogRecord {
  const m = HEADER.exec(line);
  if (!m) return { severity: 'LOG', message: line };
  return { time: m[1]!, pid: Number(m[2]), severity: m[3]!, message: m[4]! };
}

function level(severity: string): 'info' | 'warn' | 'error' {
  if (severity === 'WARNING') return 'warn';
  if (severity === 'ERROR' || severity === 'FATAL' || severity === 'PANIC') return 'error';
  return 'info';
}

/** How long a record waits for continuation lines (which start with a tab) before it is emitted. */
const CONTINUATION_WAIT_MS = 50;

/**
 * Turns Postgres' stderr into one JSON log record per message: fixed text `postgres log`, the severity, PID, time
 * and message in fields. Continuation lines (tab-indented, e.g. the rest of a multi-line statement) are folded into
 * the record they belong to.
 */
export class PostgresLogPipe {
  private partial = '';
  private pending: { severity: string; message: string; pid?: number; time?: string } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly stream: 'stderr' | 'stdout',
  ) {}

  write(chunk: string): void {
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.line(line);
    this.arm();
  }

  /** Emits whatever is still buffered (the process ended). */
  end(): void {
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
    this.flush();
  }

  private line(line: string): void {
    if (line.startsWith('\t') && this.pending) {
      this.pending.message += `\n${line.slice(1)}`;
      return;
    }
    this.flush();
    if (line.trim() === '') return;
    this.pending = { ...parseLogLine(line) };
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (!this.pending) return;
    this.timer = setTimeout(() => this.flush(), CONTINUATION_WAIT_MS);
    this.timer.unref();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const r = this.pending;
    this.pending = undefined;
    if (!r) return;
    this.logger[level(r.severity)]('postgres log', { severity: r.severity, message: r.message, pid: r.pid, time: r.time, stream: this.stream });
  }
}
