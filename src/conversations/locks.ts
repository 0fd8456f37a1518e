/**
 * One turn at a time per conversation: an in-process queue keeps arrival order, and a store lock
 * (Redis SET NX PX) holds across processes. The lock is extended while a long turn runs.
 */
import type { LockStore } from '../store/types.ts';

/** Thrown when a conversation stayed locked by someone else for longer than we may wait. */
export class LockTimeout extends Error {
  constructor(readonly key: string) {
    super(`conversation ${key} is busy`);
    this.name = 'LockTimeout';
  }
}

export class ConversationLocks {
  /** The tail of each conversation's in-process queue. */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly store: LockStore, private readonly opts: { ttlMs: number; waitMs: number }) {}

  /** Runs `work` after every earlier call for the same id (in this process) and under the store lock. */
  run<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(id) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(() => this.locked(id, work));
    const tail = mine.catch(() => undefined);
    this.tails.set(id, tail);
    void tail.then(() => { if (this.tails.get(id) === tail) this.tails.delete(id); });
    return mine;
  }

  private async locked<T>(id: string, work: () => Promise<T>): Promise<T> {
    const key = `turn:${id}`;
    const token = await this.acquire(key);
    const renew = setInterval(() => { void this.store.extend(key, token, this.opts.ttlMs).catch(() => false); }, Math.max(50, this.opts.ttlMs / 3));
    try {
      return await work();
    } finally {
      clearInterval(renew);
      await this.store.release(key, token).catch(() => undefined);
    }
  }

  private async acquire(key: string): Promise<string> {
    const deadline = Date.now() + this.opts.waitMs;
    for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
      const token = await this.store.tryAcquire(key, this.opts.ttlMs);
      if (token) return token;
      if (Date.now() >= deadline) throw new LockTimeout(key);
      await new Promise((resolve) => setTimeout(resolve, pause * (0.5 + Math.random())));
    }
  }
}
