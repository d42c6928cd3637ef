import { sleep } from '../clock';
import { errorFields, type Logger } from '../log/logger';
import type { ApiServerPool } from './api-server-pool';
import { type KubeClient, type WatchEvent, WatchIdleError } from './kube-client';
import { KubeApiError } from './kube-error';

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface KubeObject {
  readonly metadata: ObjectMeta;
}

export interface CacheChange<T> {
  readonly name: string;
  /** `undefined` when the object was deleted. */
  readonly object: T | undefined;
  readonly previous: T | undefined;
  /** Monotonic time the change reached us. */
  readonly receivedAt: number;
  /** `write`: the answer to our own write; `watch`: a list or watch event. */
  readonly source: 'watch' | 'write';
}

export interface ObjectCacheProps<T> {
  readonly client: KubeClient;
  readonly pool: ApiServerPool;
  readonly logger: Logger;
  /** Collection path, e.g. `/api/v1/namespaces/ns/configmaps`. */
  readonly path: string;
  readonly labelSelector: string;
  readonly onChange: (change: CacheChange<T>) => void;
  /** Called once, after the first list. */
  readonly onReady?: () => void;
  readonly listTimeoutMs: number;
  /**
   * Watch streams are asked to end after this many seconds (the server closes them cleanly; the next one resumes
   * from the last resourceVersion). Long streams are cheap: a quiet one costs the API server one request per
   * stream, not one per loop. @default 1800 (the API server ends streams not told otherwise after 30 to 60 minutes)
   */
  readonly watchTimeoutSeconds?: number;
  /**
   * A watch (its answer, then its stream) that carries no bytes for this long is given up and resumed on a fresh
   * connection, so one whose packets are silently dropped is noticed in this time rather than after the kernel's
   * keepalive (about 11 minutes). A stream that was open is resumed at once on the same server; one whose answer
   * never came counts as a failure of that server. @default BOOKMARK_PERIOD_MS plus listTimeoutMs
   */
  readonly silenceLimitMs?: number;
  /** Called for every successful answer (list or watch data): the last API contact. */
  readonly onContact?: () => void;
  /** @default performance.now */
  readonly now?: () => number;
}

class WatchGone extends Error {
  override readonly name = 'WatchGone';
}

/**
 * How often kube-apiserver's watch cache offers a bookmark to a stream that asked for them (`allowWatchBookmarks`)
 * and has a deadline (`timeoutSeconds`): about once a minute. A stream gets it only when objects of its resource
 * changed somewhere in the cluster since the stream's resourceVersion, so a quiet cluster's stream stays silent.
 */
const BOOKMARK_PERIOD_MS = 60_000;

// After a failed list or watch, wait this long before trying again (Patroni waits 1 s too).
const ERROR_PAUSE_MS = 1_000;
// A watch that ends sooner than this without events is treated like a failure, so a server closing streams at
// once cannot spin us.
const MIN_WATCH_MS = 1_000;

/** Resource versions are opaque; when both are decimal (etcd revisions, as in every real cluster) the larger is newer. */
function isNewer(candidate: string | undefined, current: string | undefined): boolean {
  if (candidate === undefined || current === undefined) return true;
  if (/^\d+$/.test(candidate) && /^\d+$/.test(current)) return BigInt(candidate) > BigInt(current);
  return candidate !== current;
}

/**
 * A local copy of one kind of object, kept by list-then-watch with the cluster's label selector. The watch resumes
 * from the last resourceVersion it saw (events or bookmarks) after a broken stream; it lists again only when the
 * server answers 410 Gone. Reads never touch the API.
 */
export class ObjectCache<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private resourceVersion: string | undefined;
  private synced = false;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly props: ObjectCacheProps<T>) {
    this.now = props.now ?? (() => performance.now());
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  get ready(): boolean {
    return this.synced;
  }

  get(name: string): T | undefined {
    return this.items.get(name);
  }

  values(): T[] {
    return [...this.items.values()];
  }

  /** Takes in an object our own write returned, unless the cache already has a newer version. */
  applyWrite(obj: T): void {
    const prev = this.items.get(obj.metadata.name);
    if (prev && !isNewer(obj.metadata.resourceVersion, prev.metadata.resourceVersion)) return;
    this.set(obj.metadata.name, obj, 'write');
  }

  /** Records that an object is gone (our own read got 404). */
  applyDelete(name: string): void {
    if (this.items.has(name)) this.set(name, undefined, 'write');
  }

  private set(name: string, obj: T | undefined, source: 'watch' | 'write' = 'watch'): void {
    const previous = this.items.get(name);
    if (obj) this.items.set(name, obj);
    else this.items.delete(name);
    try {
      this.props.onChange({ name, object: obj, previous, receivedAt: this.now(), source });
    } catch (err) {
      this.props.logger.error('cache change handler failed', { path: this.props.path, name, ...errorFields(err) });
    }
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let needList = true;
    while (!signal.aborted) {
      const server = this.props.pool.current();
      try {
        if (needList) {
          await this.list(server, signal);
          needList = false;
        }
        const opened = this.now();
        const events = await this.watch(server, signal);
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the signal may abort during the watch
        if (!signal.aborted && events === 0 && this.now() - opened < MIN_WATCH_MS) await sleep(ERROR_PAUSE_MS, signal);
      } catch (err) {
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the signal may abort during the list or watch
        if (signal.aborted) break;
        if (err instanceof WatchGone || (err instanceof KubeApiError && err.status === 410)) {
          this.props.logger.info('watch expired; listing again', { path: this.props.path });
          needList = true;
          continue;
        }
        if (err instanceof WatchIdleError && err.answered) {
          // Quiet or cut off without a word: either way a fresh connection to the same server settles it, and the
          // server is blamed only if that fails too.
          this.props.logger.info('watch silent; resuming on a fresh connection', { path: this.props.path, server: server ?? 'default' });
          continue;
        }
        this.props.logger.warn('watch failed', { path: this.props.path, server: server ?? 'default', ...errorFields(err) });
        if (!(err instanceof KubeApiError && err.status < 500)) this.props.pool.failed(server);
        await sleep(ERROR_PAUSE_MS, signal);
      }
    }
  }

  private async list(server: string | undefined, signal: AbortSignal): Promise<void> {
    const res = await this.props.client.request<{ metadata: { resourceVersion: string }; items: T[] }>({
      method: 'GET',
      path: this.props.path,
      query: { labelSelector: this.props.labelSelector },
      server,
      signal,
      timeoutMs: this.props.listTimeoutMs,
    });
    const fresh = new Map(res.body.items.map((o) => [o.metadata.name, o]));
    for (const name of [...this.items.keys()]) if (!fresh.has(name)) this.set(name, undefined);
    for (const [name, obj] of fresh) {
      if (this.items.get(name)?.metadata.resourceVersion !== obj.metadata.resourceVersion) this.set(name, obj);
    }
    this.resourceVersion = res.body.metadata.resourceVersion;
    this.props.onContact?.();
    if (!this.synced) {
      this.synced = true;
      this.props.onReady?.();
    }
  }

  /** Follows one watch stream until it ends; returns how many events it carried. */
  private async watch(server: string | undefined, signal: AbortSignal): Promise<number> {
    let count = 0;
    const timeoutSeconds = this.props.watchTimeoutSeconds ?? 1800;
    await this.props.client.watch<T & { code?: number }>(
      this.props.path,
      { labelSelector: this.props.labelSelector, resourceVersion: this.resourceVersion, timeoutSeconds },
      (event: WatchEvent<T & { code?: number }>) => {
        count++;
        this.props.onContact?.();
        if (event.type === 'ERROR') {
          if (event.object.code === 410) throw new WatchGone('resource version too old');
          throw new Error(`watch error event: ${JSON.stringify(event.object).slice(0, 200)}`);
        }
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- an event is JSON from the API server, whatever T says
        const rv = event.object.metadata?.resourceVersion;
        if (event.type !== 'BOOKMARK') {
          const name = event.object.metadata.name;
          if (event.type === 'DELETED') {
            if (this.items.has(name)) this.set(name, undefined);
          } else if (isNewer(rv, this.items.get(name)?.metadata.resourceVersion)) this.set(name, event.object);
        }
        if (rv) this.resourceVersion = rv;
      },
      signal,
      server,
      this.props.silenceLimitMs ?? BOOKMARK_PERIOD_MS + this.props.listTimeoutMs,
    );
    return count;
  }
}
