/**
 * The outbox's deliverer: leases due messages of the channels this process can send on, sends
 * each through its channel's sender, records the delivery, retries with backoff on failure, and
 * gives up (noting it in the transcript) after a limit. Messages of one conversation go out in
 * order: after a failure the rest of that conversation waits for the retry. Also runs due timers
 * through the pipeline.
 *
 * Delivered once: a send is recorded by `outbox.delivered`, which removes the item and logs it in
 * one store step, right after the platform accepted it. If that record cannot be written (the
 * store is down), this process remembers the item id and records it later instead of sending it
 * again when the item comes back. A send starts only while the lease has more than the send time
 * limit left, so another process cannot lease the item while it is still in flight here. What
 * remains possible is one duplicate when the process dies (or a send times out on our side but
 * reached the platform) between the platform accepting and the record: no platform here offers an
 * idempotency key to close that gap.
 */
import { ChannelError } from '../bots/channel-error.ts';
import { Outbound, ConversationRef, outboundText, type Channel } from '../bots/messages.ts';
import type { OutboxItem, Store } from '../store/types.ts';
import type { Log, Pipeline } from './pipeline.ts';

/**
 * Sends one message to a customer on one channel; throws when it could not (a ChannelError says
 * whether trying again can help). `signal` is aborted when the send must not start any more.
 */
export type Sender = (
  ref: ConversationRef,
  message: Outbound & { from?: 'bot' | 'agent' },
  signal?: AbortSignal,
) => Promise<void>;

/** A channel's sending side in this process. */
export interface ChannelSender {
  send: Sender;
  /** Whether this process can send on the channel now (WeChat: logged in here). Default: always. */
  ready?: () => boolean;
  /** Items leased per pass, what the channel can send well within a lease (rate limits). Default 100. */
  batch?: number;
}

/** What the deliverer works with; the timings have defaults for production. */
export interface DeliveryDeps {
  store: Store;
  /** Runs due timers. */
  pipeline: Pick<Pipeline, 'fireTimer'>;
  /** The channels this process can send on; items of the others stay in the outbox for their holder. */
  senders: Partial<Record<Channel, Sender | ChannelSender>>;
  log: Log;
  now?: () => number;
  /** How often to look for due messages and timers without a kick. */
  intervalMs?: number;
  leaseMs?: number;
  maxAttempts?: number;
  /** The time limit of one send (default 10 s); must be well below `leaseMs`. */
  sendTimeoutMs?: number;
  onDelivered?: (channel: string, ok: boolean) => void;
}

/** The deliverer of one process. */
export interface Delivery {
  start(): void;
  stop(): Promise<void>;
  /** Looks for due work now (called after a commit queued messages, or a channel came back). */
  kick(): void;
  /** One pass over due messages and timers; resolves when done (tests call it directly). */
  runOnce(): Promise<void>;
}

/** Backoff before the n-th retry: 1 s, 2 s, 4 s ... at most 5 minutes. */
export function retryDelayMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempts - 1), 5 * 60_000);
}

/** How long a send recorded nowhere is remembered here (the store was down for longer: give up on exactly-once). */
const UNRECORDED_TTL_MS = 24 * 60 * 60_000;

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs `send` with a time limit; the signal tells the sender not to start once the limit passed. */
async function withTimeLimit(send: (signal: AbortSignal) => Promise<void>, ms: number, channel: Channel): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ChannelError(channel, `send took longer than ${ms} ms`, { retryable: true });
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    await Promise.race([send(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Creates the deliverer; it works once started (or when a test calls `runOnce`). */
export function createDelivery(deps: DeliveryDeps): Delivery {
  const now = deps.now ?? Date.now;
  const leaseMs = deps.leaseMs ?? 30_000;
  const maxAttempts = deps.maxAttempts ?? 8;
  const sendTimeoutMs = Math.min(deps.sendTimeoutMs ?? 10_000, leaseMs / 2);
  /** Sent by this process, not yet recorded in the store: item id -> conversation and when. */
  const unrecorded = new Map<string, { conversationId: string; channel: Channel; at: number }>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = true;

  function sendersReady(): [Channel, ChannelSender][] {
    const ready: [Channel, ChannelSender][] = [];
    for (const [channel, sender] of Object.entries(deps.senders) as [Channel, Sender | ChannelSender | undefined][]) {
      if (!sender) continue;
      const channelSender = typeof sender === 'function' ? { send: sender } : sender;
      if (channelSender.ready?.() ?? true) ready.push([channel, channelSender]);
    }
    return ready;
  }

  /** Records a send; false when the store could not be reached (then it is remembered for later). */
  async function record(conversationId: string, itemId: string, channel: Channel): Promise<boolean> {
    try {
      const recorded = await deps.store.outbox.delivered(conversationId, itemId, now());
      unrecorded.delete(itemId);
      if (!recorded) {
        // Someone recorded it first: the lease ran out during our send and it went out twice.
        deps.log.warn({ conversationId, itemId, channel }, 'message delivered, but it was no longer queued here (possibly sent twice)');
      }
      return true;
    } catch (error) {
      unrecorded.set(itemId, { conversationId, channel, at: now() });
      deps.log.warn({ conversationId, itemId, err: reason(error) }, 'message delivered but not recorded; recording it later instead of sending it again');
      return false;
    }
  }

  async function recordLeftovers(): Promise<void> {
    for (const [itemId, entry] of unrecorded) {
      if (entry.at + UNRECORDED_TTL_MS < now()) { unrecorded.delete(itemId); continue; }
      if (!(await record(entry.conversationId, itemId, entry.channel))) return;
    }
  }

  async function giveUp(item: OutboxItem, message: Outbound, attempts: number, why: string): Promise<void> {
    deps.log.error({ conversationId: item.conversationId, itemId: item.id, attempts, err: why }, 'message could not be delivered; given up');
    await deps.store.conversations.appendTranscript(item.conversationId, [
      { from: 'system', text: `未能送达 / not delivered: ${outboundText(message).slice(0, 200)}`, at: new Date(now()).toISOString(), messageId: item.id },
    ]);
    await deps.store.outbox.ack(item.conversationId, item.id);
  }

  async function deliver(item: OutboxItem, channel: Channel, sender: ChannelSender, blocked: Set<string>): Promise<void> {
    if (blocked.has(item.conversationId)) return;
    if (unrecorded.has(item.id)) {
      // Sent by us already; only the record is missing. Sending again would be the duplicate.
      if (!(await record(item.conversationId, item.id, channel))) blocked.add(item.conversationId);
      return;
    }
    const ref = ConversationRef.safeParse(item.ref);
    const message = Outbound.safeParse(item.message);
    if (!ref.success || !message.success) {
      deps.log.error({ conversationId: item.conversationId, itemId: item.id }, 'outbox item malformed; dropped');
      await deps.store.outbox.ack(item.conversationId, item.id);
      return;
    }
    if (!(sender.ready?.() ?? true)) {
      // Lost the connection during this pass: the item waits for the lease to run out.
      blocked.add(item.conversationId);
      return;
    }
    const from = (item.message as { from?: unknown }).from === 'agent' ? 'agent' : 'bot';
    try {
      await withTimeLimit((signal) => sender.send(ref.data, { ...message.data, from }, signal), sendTimeoutMs, channel);
    } catch (error) {
      blocked.add(item.conversationId);
      deps.onDelivered?.(channel, false);
      const attempts = item.attempts + 1;
      if (error instanceof ChannelError && !error.retryable) return giveUp(item, message.data, attempts, reason(error));
      if (attempts >= maxAttempts) return giveUp(item, message.data, attempts, reason(error));
      deps.log.warn({ conversationId: item.conversationId, itemId: item.id, attempts, err: reason(error) }, 'delivery failed; will retry');
      await deps.store.outbox.retry(item.conversationId, item.id, now() + retryDelayMs(attempts));
      return;
    }
    deps.onDelivered?.(channel, true);
    if (!(await record(item.conversationId, item.id, channel))) blocked.add(item.conversationId);
  }

  async function passChannel(channel: Channel, sender: ChannelSender): Promise<void> {
    const leasedAt = now();
    const items = await deps.store.outbox.lease(leasedAt, sender.batch ?? 100, leaseMs, [channel]);
    const blocked = new Set<string>();
    for (const item of items) {
      // A send must end before the lease does, or another process could take the item meanwhile;
      // what is left comes back when the lease runs out.
      if (now() + sendTimeoutMs > leasedAt + leaseMs) break;
      await deliver(item, channel, sender, blocked);
    }
  }

  async function pass(): Promise<void> {
    if (unrecorded.size > 0) await recordLeftovers();
    // Channels run side by side, so a rate-limited one does not hold up the others.
    const results = await Promise.allSettled(sendersReady().map(([channel, sender]) => passChannel(channel, sender)));
    for (const result of results) {
      if (result.status === 'rejected') deps.log.warn({ err: reason(result.reason) }, 'delivery pass failed');
    }
    const timers = await deps.store.timers.lease(now(), 100, leaseMs);
    for (const t of timers) {
      try {
        await deps.pipeline.fireTimer(t);
        await deps.store.timers.ack(t);
      } catch (error) {
        deps.log.warn({ conversationId: t.conversationId, timer: t.name, err: reason(error) }, 'timer failed; it comes back after its lease');
      }
    }
  }

  function runOnce(): Promise<void> {
    if (running) { again = true; return running; }
    running = (async () => {
      do {
        again = false;
        try { await pass(); } catch (error) {
          deps.log.warn({ err: reason(error) }, 'delivery pass failed');
        }
      } while (again && !stopped);
    })().finally(() => { running = null; });
    return running;
  }

  return {
    start() {
      stopped = false;
      const tick = (): void => {
        if (stopped) return;
        void runOnce().finally(() => { if (!stopped) timer = setTimeout(tick, deps.intervalMs ?? 500); });
      };
      tick();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    kick() { if (!stopped) void runOnce(); },
    runOnce,
  };
}
