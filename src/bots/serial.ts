/** Runs work one at a time per key (a chat), in arrival order, as platforms may hand us a chat's messages at once. */

/** A queue per key: work for one key runs after the previous work for that key settled. */
export class PerKeySerial {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` after earlier work for `key`; resolves or rejects with it. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(() => undefined, () => undefined);
    this.tails.set(key, tail);
    // Forget the key once nothing more is queued behind this work, so the map stays small.
    void tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key); });
    return result;
  }

  /** Resolves when every queued work has settled (for a clean stop). */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }
}
