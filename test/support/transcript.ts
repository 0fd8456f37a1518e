/**
 * Conversations written as they read (STYLE.md §9), run through the real web chat API:
 * `await talk(url).user('在吗').expectReply(/您好/).user('查订单').expectReply(/订单号/)`.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { WebReply } from '../../src/bots/webchat.ts';

type Step = () => Promise<void>;

export class Transcript implements PromiseLike<void> {
  private readonly steps: Step[] = [];
  private replies: WebReply[] = [];
  private cursor = 0;
  private lastBody: { replies: WebReply[]; duplicate?: boolean } | null = null;
  /** Every line so far, for failure messages. */
  private readonly log: string[] = [];

  constructor(private readonly baseUrl: string, readonly sessionId: string = `s-${randomUUID()}`) {}

  /** The customer writes `text` (with a given platform message id, to test redelivery). */
  user(text: string, messageId: string = randomUUID()): this {
    this.steps.push(async () => {
      const res = await fetch(`${this.baseUrl}/api/webchat/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sessionId: this.sessionId, text, messageId }),
      });
      expect(res.status, `POST "${text}"`).toBe(200);
      this.lastBody = await res.json() as { replies: WebReply[]; duplicate?: boolean };
      this.replies = this.lastBody.replies;
      this.cursor = 0;
      this.log.push(`客户: ${text}`, ...this.replies.map((r) => `  机器人: ${r.text}${r.quickReplies ? ` [${r.quickReplies.map((q) => q.label).join(' | ')}]` : ''}`));
    });
    return this;
  }

  /** The next reply of the last message matches. */
  expectReply(pattern: RegExp | string): this {
    this.steps.push(async () => {
      const rest = this.replies.slice(this.cursor);
      const index = rest.findIndex((r) => (typeof pattern === 'string' ? r.text.includes(pattern) : pattern.test(r.text)));
      expect(index, `no reply matching ${String(pattern)}; conversation so far:\n${this.log.join('\n')}`).toBeGreaterThanOrEqual(0);
      this.cursor += index + 1;
    });
    return this;
  }

  /** No reply of the last message matches. */
  expectNoReplyMatching(pattern: RegExp): this {
    this.steps.push(async () => {
      expect(this.replies.map((r) => r.text).filter((t) => pattern.test(t)), this.log.join('\n')).toEqual([]);
    });
    return this;
  }

  /** The last message got no reply at all (and was or was not a duplicate). */
  expectSilence(opts: { duplicate?: boolean } = {}): this {
    this.steps.push(async () => {
      expect(this.replies, this.log.join('\n')).toEqual([]);
      if (opts.duplicate !== undefined) expect(this.lastBody?.duplicate === true).toBe(opts.duplicate);
    });
    return this;
  }

  /** Some reply of the last message offers these quick replies (by label, in part). */
  expectQuickReplies(labels: (string | RegExp)[]): this {
    this.steps.push(async () => {
      const offered = this.replies.flatMap((r) => r.quickReplies ?? []).map((q) => q.label);
      for (const label of labels) {
        expect(offered.some((o) => (typeof label === 'string' ? o.includes(label) : label.test(o))), `quick reply ${String(label)} not in [${offered.join(', ')}]\n${this.log.join('\n')}`).toBe(true);
      }
    });
    return this;
  }

  /** Some reply of the last message is the card of this order. */
  expectOrderCard(orderId: string): this {
    this.steps.push(async () => {
      expect(this.replies.map((r) => r.card?.orderId), this.log.join('\n')).toContain(orderId);
    });
    return this;
  }

  /** Any other check on the replies of the last message. */
  check(fn: (replies: WebReply[]) => void | Promise<void>): this {
    this.steps.push(async () => { await fn(this.replies); });
    return this;
  }

  then<A = void, B = never>(onFulfilled?: ((value: void) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): PromiseLike<A | B> {
    const run = async (): Promise<void> => { for (const step of this.steps.splice(0)) await step(); };
    return run().then(onFulfilled, onRejected);
  }
}

/** Starts a conversation with the bot at `baseUrl` (a new web session unless one is given). */
export function talk(baseUrl: string, sessionId?: string): Transcript {
  return new Transcript(baseUrl, sessionId);
}
