/**
 * Holds a channel's connection in one process only (the WeChat login, Telegram long polling),
 * through a lock in the shared store: the holder renews it; when the holder dies or loses the
 * store for longer than the lock's life, another process takes over.
 */
import type { LockStore } from '../store/types.ts';

/** The few log calls the holder makes (pino's shape). */
interface HolderLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Which lock, and what to do when it is won or lost. */
export interface ChannelHolderOptions {
  locks: LockStore;
  /** The lock's key, one per connection (e.g. `channel:wechat`). */
  key: string;
  log: HolderLog;
  /** Opens the connection once the lock is ours; a throw gives the lock back and tries again later. */
  onAcquired: () => Promise<void>;
  /** Closes the connection: the lock was lost (or we stop). */
  onReleased: () => Promise<void>;
  /** The lock's life (default 30 s); it is renewed every third of it. */
  ttlMs?: number;
  /** How often a process without the lock tries to take it (default 5 s). */
  retryMs?: number;
}

export interface ChannelHolder {
  /** Tries at once, then keeps trying or renewing in the background. */
  start(): Promise<void>;
  /** Closes the connection if held and gives the lock back. */
  stop(): Promise<void>;
  /** Whether this process holds the connection now. */
  holding(): boolean;
}

/** Creates a holder; it does nothing until `start`. */
export function createChannelHolder(opts: ChannelHolderOptions): ChannelHolder {
  const ttlMs = opts.ttlMs ?? 30_000;
  const retryMs = opts.retryMs ?? 5_000;
  let token: string | null = null;
  let renewedAt = 0;
  /** The connection being opened; renewals go on meanwhile, however long a puppet takes to start. */
  let opening: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let step: Promise<void> = Promise.resolve();

  async function release(why: string): Promise<void> {
    const held = token;
    token = null;
    opts.log.info({ key: opts.key, why }, 'channel connection released');
    try { await opts.onReleased(); } catch (error) {
      opts.log.warn({ key: opts.key, err: error instanceof Error ? error.message : String(error) }, 'closing the channel connection failed');
    }
    if (held) await opts.locks.release(opts.key, held).catch(() => undefined);
  }

  async function tick(): Promise<void> {
    if (stopped) return;
    if (token) {
      const ok = await opts.locks.extend(opts.key, token, ttlMs).catch(() => null);
      if (ok) renewedAt = Date.now();
      // Lost, or the store unreachable for the lock's whole life: another process may hold it now.
      else if (ok === false || Date.now() - renewedAt >= ttlMs) await release(ok === false ? 'lock lost' : 'store unreachable');
      return;
    }
    const got = await opts.locks.tryAcquire(opts.key, ttlMs).catch(() => null);
    if (!got || stopped) {
      if (got) await opts.locks.release(opts.key, got).catch(() => undefined);
      return;
    }
    token = got;
    renewedAt = Date.now();
    opening = opts.onAcquired().then(
      () => undefined,
      async (error: unknown) => {
        opts.log.warn({ key: opts.key, err: error instanceof Error ? error.message : String(error) }, 'opening the channel connection failed; trying again later');
        // Still ours (not lost or stopped meanwhile): give it back so any process may try.
        if (token === got) await release('open failed');
      },
    );
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      step = step.then(tick).finally(schedule);
    }, token ? ttlMs / 3 : retryMs);
  }

  return {
    async start() {
      if (!stopped) return;
      stopped = false;
      step = step.then(tick);
      await step;
      schedule();
      // The caller learns whether the first opening worked (its own time limit bounds the wait).
      await opening;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await step;
      if (token) await release('stopping');
    },
    holding: () => token !== null,
  };
}
