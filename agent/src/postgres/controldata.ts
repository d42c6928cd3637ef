import { join } from 'node:path';
import { FatalError } from '../errors';
import type { SpawnWrapping } from './run-as';
import { runTool, toolFailureDetails } from './run-tool';

/** What pg_controldata tells about a data directory that may not be running. */
export interface ControlData {
  /** 64-bit unsigned, kept as decimal text (as in Patroni's `initialize` annotation). */
  readonly systemIdentifier: string;
  /** e.g. `in production`, `shut down`, `shut down in recovery`, `in archive recovery`, `in crash recovery`. */
  readonly clusterState: string;
  readonly checkpointTimeline: number;
  readonly checkpointLocation: string;
  readonly dataChecksums: boolean;
  readonly walLogHints: boolean;
  /** All the lines, by label, for anything else. */
  readonly raw: Readonly<Record<string, string>>;
}

/** Parses `pg_controldata` output (run with English messages). */
export function parseControlData(text: string): ControlData {
  const raw: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    raw[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  const need = (label: string): string => {
    const v = raw[label];
    if (v === undefined) throw new FatalError('unexpected pg_controldata output', { missing: label });
    return v;
  };
  return {
    systemIdentifier: need('Database system identifier'),
    clusterState: need('Database cluster state'),
    checkpointTimeline: Number(need("Latest checkpoint's TimeLineID")),
    checkpointLocation: need('Latest checkpoint location'),
    dataChecksums: need('Data page checksum version') !== '0',
    walLogHints: need('wal_log_hints setting') === 'on',
    raw,
  };
}

/** Runs pg_controldata on a data directory. */
export async function readControlData(o: SpawnWrapping & { binDir: string; dataDir: string; cwd: string }): Promise<ControlData> {
  const res = await runTool({ ...o, binary: join(o.binDir, 'pg_controldata'), args: ['-D', o.dataDir], timeoutMs: 30_000 });
  if (res.code !== 0) throw new FatalError('pg_controldata failed', { dataDir: o.dataDir, ...toolFailureDetails('pg_controldata', res) });
  return parseControlData(res.stdout);
}
