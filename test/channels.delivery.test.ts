/** The outbox deliverer's promises across processes: only what a process can send, once, with no send outliving its lease. */
import { describe, expect, it } from 'vitest';
import { ChannelError } from '../src/bots/channel-error.ts';
import type { ConversationRef, Outbound } from '../src/bots/messages.ts';
import { createDelivery, type ChannelSender, type DeliveryDeps } from '../src/conversations/delivery.ts';
import type { Pipeline } from '../src/conversations/pipeline.ts';
import { createMemoryStore } from '../src/store/memory.ts';
import { StoreUnavailable, type OutboxItem, type Store } from '../src/store/types.ts';

const pipeline: Pick<Pipeline, 'fireTimer'> = { fireTimer: async () => undefined };

function silentLog(lines: string[] = []): DeliveryDeps['log'] {
  const put = (obj: object, msg?: string): void => { lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`); };
  return { info: put, warn: put, error: put };
}

function item(channel: 'wechat' | 'telegram', chatId: string, id: string, text = `reply ${id}`): OutboxItem {
  return { id, conversationId: `${channel}:${chatId}`, ref: { channel, chatId, userId: chatId }, message: { kind: 'text', text }, at: '2026-11-22T10:00:00.000Z', attempts: 0 };
}

/** A sender that records what it sent. */
function recorder(opts: { ready?: () => boolean; onSend?: (text: string, signal?: AbortSignal) => Promise<void> | void } = {}): ChannelSender & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    ...(opts.ready ? { ready: opts.ready } : {}),
    async send(_ref: ConversationRef, message: Outbound, signal?: AbortSignal) {
      const text = message.kind === 'text' ? message.text : message.kind;
      await opts.onSend?.(text, signal);
      sent.push(text);
    },
  };
}

describe('outbox delivery', () => {
  it('leaves the items of a channel it cannot send on (not logged in) to the process that can', async () => {
    const clock = 1_000_000;
    const store = createMemoryStore({ now: () => clock });
    await store.outbox.enqueue([item('wechat', 'w1', 'w')]);
    await store.outbox.enqueue([item('telegram', 't1', 't')]);
    const wechat = recorder({ ready: () => false });
    const telegram = recorder();
    await createDelivery({ store, pipeline, senders: { wechat, telegram }, log: silentLog(), now: () => clock }).runOnce();
    expect(telegram.sent).toEqual(['reply t']);
    expect(wechat.sent).toEqual([]);
    // Not leased by the pass above: the logged-in process finds it due at once.
    expect((await store.outbox.lease(clock, 10, 1000, ['wechat'])).map((i) => i.id)).toEqual(['w']);
  });

  it('records a send later, instead of sending it again, when the store failed right after the send', async () => {
    let clock = 1_000_000;
    const inner = createMemoryStore({ now: () => clock });
    let failRecord = 1;
    const store: Store = {
      ...inner,
      outbox: {
        ...inner.outbox,
        delivered: async (...args) => {
          if (failRecord-- > 0) throw new StoreUnavailable('redis: connection lost');
          return inner.outbox.delivered(...args);
        },
      },
    };
    await store.outbox.enqueue([item('telegram', 't1', 'a')]);
    const telegram = recorder();
    const lines: string[] = [];
    const delivery = createDelivery({ store, pipeline, senders: { telegram }, log: silentLog(lines), now: () => clock, leaseMs: 30_000 });
    await delivery.runOnce();
    expect(telegram.sent).toEqual(['reply a']);
    expect(await store.outbox.pending('telegram:t1')).toHaveLength(1);
    expect(lines.join('\n')).toMatch(/delivered but not recorded/);

    clock += 30_000;
    await delivery.runOnce();
    expect(telegram.sent).toEqual(['reply a']);
    expect(await store.outbox.pending('telegram:t1')).toEqual([]);
    expect((await store.outbox.deliveries('telegram:t1')).map((d) => d.itemId)).toEqual(['a']);
  });

  it('starts no send that could outlive its lease; the rest waits for the next lease', async () => {
    let clock = 1_000_000;
    const store = createMemoryStore({ now: () => clock });
    await store.outbox.enqueue([item('wechat', 'w1', 'a'), item('wechat', 'w1', 'b')]);
    // Each send takes 700 ms of a 1000 ms lease, with a 400 ms time limit per send.
    const wechat = recorder({ onSend: () => { clock += 700; } });
    const delivery = createDelivery({ store, pipeline, senders: { wechat }, log: silentLog(), now: () => clock, leaseMs: 1000, sendTimeoutMs: 400 });
    await delivery.runOnce();
    expect(wechat.sent).toEqual(['reply a']);
    expect((await store.outbox.pending('wechat:w1')).map((i) => [i.id, i.attempts])).toEqual([['b', 0]]);
    clock += 1000;
    await delivery.runOnce();
    expect(wechat.sent).toEqual(['reply a', 'reply b']);
  });

  it('abandons a send that hangs past its time limit, telling the sender, and retries it', async () => {
    const store = createMemoryStore();
    await store.outbox.enqueue([item('wechat', 'w1', 'a')]);
    let seen: AbortSignal | undefined;
    const wechat = recorder({ onSend: (_text, signal) => { seen = signal; return new Promise<void>(() => undefined); } });
    await createDelivery({ store, pipeline, senders: { wechat }, log: silentLog(), sendTimeoutMs: 50 }).runOnce();
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(ChannelError);
    expect((await store.outbox.pending('wechat:w1'))[0]?.attempts).toBe(1);
  });

  it('sends every item once when two processes deliver from one store at the same time', async () => {
    const store = createMemoryStore();
    const items = Array.from({ length: 30 }, (_, n) => item('telegram', `c${n % 6}`, `i${n}`));
    for (const i of items) await store.outbox.enqueue([i]);
    const sent: string[] = [];
    const slow = (): ChannelSender => ({ send: async (_ref, message) => { await new Promise((r) => setTimeout(r, 1)); sent.push(message.kind === 'text' ? message.text : ''); } });
    const one = createDelivery({ store, pipeline, senders: { telegram: slow() }, log: silentLog() });
    const two = createDelivery({ store, pipeline, senders: { telegram: slow() }, log: silentLog() });
    for (let round = 0; round < 5; round += 1) await Promise.all([one.runOnce(), two.runOnce()]);
    expect([...sent].sort()).toEqual(items.map((i) => `reply ${i.id}`).sort());
    // In order within each conversation.
    expect(sent.filter((t) => ['reply i0', 'reply i6', 'reply i12', 'reply i18', 'reply i24'].includes(t)))
      .toEqual(['reply i0', 'reply i6', 'reply i12', 'reply i18', 'reply i24']);
  });
});
