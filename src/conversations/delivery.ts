/**
 * The outbox's deliverer: leases due messages, sends each through its channel's sender, acks on
 * success, retries with backoff on failure, and gives up (noting it in the transcript) after a
 * limit. Messages of one conversation go out in order: after a failure the rest of that
 * conversation waits for the retry. Also runs due timers through the pipeline.
 */
import { Outbound, ConversationRef, outboundText, type Channel } from '../bots/messages.ts';
import type { OutboxItem, Store } from '../store/types.ts';
import type { Log, Pipeline } from './pipeline.ts';

/** Sends one message to a customer on one channel; throws when it could not. */
export type Sender = (ref: ConversationRef, message: Outbound & { from?: 'bot' | 'agent' }) => Promise<void>;

export interface DeliveryDeps {
  store: Store;
  pipeline: Pipeline;
  /** The channels this process can send on (WeChat only where it is logged in). */
  senders: Partial<Record<Channel, Sender>>;
  log: Log;
  now?: () => number;
  /** How often to look for due messages and timers without a kick. */
  intervalMs?: number;
  leaseMs?: number;
  maxAttempts?: number;
  onDelivered?: (channel: string, ok: boolean) => void;
}

export interface Delivery {
  start(): void;
  stop(): Promise<void>;
  /** Looks for due work now (called after a commit queued messages). */
  kick(): void;
  /** One pass over due messages and timers; resolves when done (tests call it directly). */
  runOnce(): Promise<void>;
}

/** Backoff before the n-th retry: 1 s, 2 s, 4 s ... at most 5 minutes. */
export function retryDelayMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempts - 1), 5 * 60_000);
}

export function createDelivery(deps: DeliveryDeps): Delivery {
  const now = deps.now ?? Date.now;
  const leaseMs = deps.leaseMs ?? 30_000;
  const maxAttempts = deps.maxAttempts ?? 8;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = true;

  async function deliver(item: OutboxItem, blocked: Set<string>): Promise<void> {
    if (blocked.has(item.conversationId)) return;
    const ref = ConversationRef.safeParse(item.ref);
    const message = Outbound.safeParse(item.message);
    if (!ref.success || !message.success) {
      deps.log.error({ conversationId: item.conversationId, itemId: item.id }, 'outbox item malformed; dropped');
      await deps.store.outbox.ack(item.conversationId, item.id);
      return;
    }
    const sender = deps.senders[ref.data.channel];
    if (!sender) {
      // Another process holds this channel's connection; let the lease run out for it.
      blocked.add(item.conversationId);
      return;
    }
    try {
      const from = (item.message as { from?: unknown }).from === 'agent' ? 'agent' : 'bot';
      await sender(ref.data, { ...message.data, from });
      await deps.store.outbox.ack(item.conversationId, item.id);
      deps.onDelivered?.(ref.data.channel, true);
    } catch (error) {
      blocked.add(item.conversationId);
      deps.onDelivered?.(ref.data.channel, false);
      const attempts = item.attempts + 1;
      if (attempts >= maxAttempts) {
        deps.log.error({ conversationId: item.conversationId, itemId: item.id, attempts }, 'message could not be delivered; given up');
        await deps.store.conversations.appendTranscript(item.conversationId, [
          { from: 'system', text: `未能送达 / not delivered: ${outboundText(message.data).slice(0, 200)}`, at: new Date(now()).toISOString(), messageId: item.id },
        ]);
        await deps.store.outbox.ack(item.conversationId, item.id);
        return;
      }
      deps.log.warn({ conversationId: item.conversationId, itemId: item.id, attempts, err: error instanceof Error ? error.message : String(error) }, 'delivery failed; will retry');
      await deps.store.outbox.retry(item.conversationId, item.id, now() + retryDelayMs(attempts));
    }
  }

  async function pass(): Promise<void> {
    const items = await deps.store.outbox.lease(now(), 100, leaseMs);
    const blocked = new Set<string>();
    for (const item of items) await deliver(item, blocked);
    const timers = await deps.store.timers.lease(now(), 100, leaseMs);
    for (const t of timers) {
      try {
        await deps.pipeline.fireTimer(t);
        await deps.store.timers.ack(t);
      } catch (error) {
        deps.log.warn({ conversationId: t.conversationId, timer: t.name, err: error instanceof Error ? error.message : String(error) }, 'timer failed; it comes back after its lease');
      }
    }
  }

  function runOnce(): Promise<void> {
    if (running) { again = true; return running; }
    running = (async () => {
      do {
        again = false;
        try { await pass(); } catch (error) {
          deps.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'delivery pass failed');
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
