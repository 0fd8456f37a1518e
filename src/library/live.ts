/**
 * The library every process answers with: the store's live version, compiled once per version.
 * A publish or rollback is announced on the bus and every process also polls, so all follow
 * within seconds without a restart. A turn reads `current()` once, so it never sees half a change.
 */
import type { EventBus } from '../store/types.ts';
import type { LibraryFiles } from '../flows/loader.ts';
import type { LibraryRepository } from './repository.ts';

export const LIBRARY_TOPIC = 'library';

export interface LiveLibrary<T> {
  current(): T;
  version(): number;
  /** Loads the live version if it changed (or `force`). */
  reload(force?: boolean): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface LiveLibraryDeps<T> {
  repo: LibraryRepository;
  bus: EventBus;
  /** Parses and resolves a version's files; throws LibraryError when they do not load. */
  compile(files: LibraryFiles): T;
  /** The shipped folder, for the first start. */
  shipped(): Promise<LibraryFiles>;
  log: { info(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  pollMs?: number;
}

export function createLiveLibrary<T>(deps: LiveLibraryDeps<T>): LiveLibrary<T> {
  let compiled: T | undefined;
  let loaded = 0;
  let poller: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let loading: Promise<void> | null = null;

  async function load(force: boolean): Promise<void> {
    const n = await deps.repo.liveVersion();
    if (!force && n === loaded && compiled !== undefined) return;
    const live = n > 0 ? await deps.repo.version(n) : await deps.repo.seed(await deps.shipped());
    if (!live) return;
    try {
      compiled = deps.compile(live.files);
      loaded = live.version;
      deps.log.info({ libraryVersion: live.version }, `script library version ${live.version} live`);
    } catch (error) {
      // A live version this build cannot load (published by another build?): keep what runs now.
      deps.log.error({ libraryVersion: live.version, err: error instanceof Error ? error.message : String(error) }, 'live library version does not load; keeping the current one');
      if (compiled === undefined) {
        compiled = deps.compile(await deps.shipped());
        deps.log.error({}, 'answering with the shipped library until a loadable version is published');
      }
    }
  }

  const live: LiveLibrary<T> = {
    current() {
      if (compiled === undefined) throw new Error('library not loaded yet: call start() first');
      return compiled;
    },
    version: () => loaded,
    reload(force = false) {
      loading ??= load(force).finally(() => { loading = null; });
      return loading;
    },
    async start() {
      await live.reload(true);
      unsubscribe = await deps.bus.subscribe(LIBRARY_TOPIC, () => { void live.reload().catch(() => undefined); });
      poller = setInterval(() => { void live.reload().catch(() => undefined); }, deps.pollMs ?? 3000);
    },
    async stop() {
      clearInterval(poller);
      await unsubscribe?.().catch(() => undefined);
    },
  };
  return live;
}
