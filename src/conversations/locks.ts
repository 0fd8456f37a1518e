/**
 * One turn at a time per conversation: an in-process queue keeps arrival order, and the store's
 * turn lock ({@link turnLockKey}) holds across processes. The lock is extended while a long turn
 * runs. A customer turn takes it in the same store step that loads the conversation, and its
 * commit frees it (see `ConversationStore.beginTurn`), so a turn costs two round trips, not four.
 */
import { randomUUID } from 'node:crypto';
import { turnLockKey, type LockStore } from '../store/types.ts';

/** Thrown when a conversation stayed locked by someone else for longer than we may wait. */
export class LockTimeout extends Error {
  constructor(readonly key: string) {
    super(`conversation ${key} is busy`);
    this.name = 'LockTimeout';
  }
}

/** The lock a turn holds; a store step that freed it already (a commit with `unlock`) sets `released`. */
export interface HeldLock {
  readonly token: string;
  released: boolean;
}

/** Takes the lock with this token in some store step of the caller's; false while someone else holds it. */
export type Acquire = (token: string) => Promise<boolean>;

export class ConversationLocks {
  /** The tail of each conversation's in-process queue. */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly store: LockStore, readonly opts: { ttlMs: number; waitMs: number }) {}

  /**
   * Runs `work` after every earlier call for the same id (in this process) and under the store
   * lock, taken by `acquire` when given (else by the lock store).
   */
  run<T>(id: string, work: (held: HeldLock) => Promise<T>, acquire?: Acquire): Promise<T> {
    const previous = this.tails.get(id) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(() => this.locked(id, work, acquire));
    const tail = mine.catch(() => undefined);
    this.tails.set(id, tail);
    void tail.then(() => { if (this.tails.get(id) === tail) this.tails.delete(id); });
    return mine;
  }

  private async locked<T>(id: string, work: (held: HeldLock) => Promise<T>, acquire?: Acquire): Promise<T> {
    const key = turnLockKey(id);
    const held: HeldLock = { token: await this.acquire(key, acquire), released: false };
    const renew = setInterval(() => {
      if (!held.released) void this.store.extend(key, held.token, this.opts.ttlMs).catch(() => false);
    }, Math.max(50, this.opts.ttlMs / 3));
    try {
      return await work(held);
    } finally {
      clearInterval(renew);
      if (!held.released) await this.store.release(key, held.token).catch(() => undefined);
    }
  }

  private async acquire(key: string, acquire?: Acquire): Promise<string> {
    const deadline = Date.now() + this.opts.waitMs;
    for (let pause = 2; ; pause = Math.min(pause * 2, 50)) {
      let token: string | null;
      if (acquire) {
        const mine = randomUUID();
        token = (await acquire(mine)) ? mine : null;
      } else {
        token = await this.store.tryAcquire(key, this.opts.ttlMs);
      }
      if (token) return token;
      if (Date.now() >= deadline) throw new LockTimeout(key);
      await new Promise((resolve) => setTimeout(resolve, pause * (0.5 + Math.random())));
    }
  }
}
