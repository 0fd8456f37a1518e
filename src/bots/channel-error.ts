/** The one error a channel adapter throws (STYLE.md §6): which channel, and whether trying again can help. */
import type { Channel } from './messages.ts';

/**
 * A message could not be sent on a channel. `retryable` is false when sending again cannot help
 * (the customer blocked the bot, the chat is gone); the outbox then gives up at once instead of
 * retrying with backoff.
 */
export class ChannelError extends Error {
  readonly channel: Channel;
  readonly retryable: boolean;

  constructor(channel: Channel, message: string, opts: { retryable: boolean; cause?: unknown }) {
    super(`${channel}: ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ChannelError';
    this.channel = channel;
    this.retryable = opts.retryable;
  }
}
