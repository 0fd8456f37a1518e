/** A token bucket: at most `burst` sends at once, then `perSecond` on average (one process's sending rate on a platform). */

/** Waits for send permits; a send waiting longer than its caller allows is abandoned through the signal. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly perSecond: number, private readonly burst: number, private readonly now: () => number = Date.now) {
    if (!(perSecond > 0) || !(burst >= 1)) throw new RangeError('token bucket: perSecond must be > 0 and burst >= 1');
    this.tokens = burst;
    this.updatedAt = now();
  }

  /** Resolves when a token was taken (in call order); rejects with the signal's reason if aborted first. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.wait(signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = t;
  }

  private async wait(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const ms = Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
        const onAbort = (): void => { clearTimeout(timer); reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted')); };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}
