/**
 * A bot for one story (test/stories.test.ts and the manager's "run the stories" on a draft): the
 * demo shop at the story's time, a memory store, tickets caught instead of opened, the clock in
 * the story's hands. Nothing it does reaches the live store or the real shop.
 */
import { conversationIdOf, Outbound, type ConversationRef, type Inbound } from '../bots/messages.ts';
import { createDemoShop, DEMO_BASE_TIME } from '../commerce/demo-shop.ts';
import type { ShopData } from '../commerce/schema.ts';
import { ShopError, type Shop } from '../commerce/shop.ts';
import { createPipeline, type TicketRequest } from '../conversations/pipeline.ts';
import type { CompiledLibrary } from '../flows/compile.ts';
import type { MakeStoryBot, Story, StoryTicket } from '../flows/stories.ts';
import { createMemoryStore } from '../store/memory.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A shop that cannot be reached, or never answers, or answers reads but not changes. */
function troubled(shop: Shop, how: Story['shop']): Shop {
  if (how === 'normal') return shop;
  const fail = (): Promise<never> => (how === 'slow' ? new Promise<never>(() => undefined) : Promise.reject(new ShopError('unavailable', 'shop_unavailable')));
  if (how === 'changesDown') return { ...shop, changeOrder: fail };
  return {
    currency: shop.currency,
    ping: async () => false,
    products: fail, product: fail, variant: fail, customer: fail, customerByChannel: fail,
    order: fail, ordersOf: fail, promotions: fail, changeOrder: fail,
  };
}

/** Story bots over one library and the demo shop's data. */
export function storyBots(library: CompiledLibrary, data: ShopData): MakeStoryBot {
  return async (story) => {
  let clock = Date.parse(story.now ?? DEMO_BASE_TIME);
  const startedAt = clock;
  const now = (): Date => new Date(clock);
  const shop = troubled(createDemoShop(data, { now }), story.shop);
  const store = createMemoryStore({ now: () => clock });
  const tickets: StoryTicket[] = [];
  const pipeline = createPipeline({
    store, shop, now, log: quiet,
    library: () => library,
    inlineChannels: new Set(['web']),
    actionTimeoutMs: 300,
    tickets: {
      open: async (t: TicketRequest) => {
        tickets.push({ kind: t.kind, reason: t.reason, priority: t.priority, ...(t.note ? { note: t.note } : {}), ...(t.dueAt !== undefined ? { dueAt: t.dueAt } : {}) });
        return {};
      },
    },
  });
  const readOrder = createOrderReader(shop, story, data);
  const userId = story.user ?? `visitor-${Math.random().toString(36).slice(2, 10)}`;
  const ref: ConversationRef = { channel: story.channel, chatId: userId, userId };
  const id = conversationIdOf(ref);
  let n = 0;
  const seen = new Set<string>();
  return {
    startedAt,
    async say(text, imageUrl) {
      clock += 20_000;
      const inbound: Inbound = { id: `m${++n}`, ref, customer: {}, text, at: now().toISOString(), ...(imageUrl ? { imageUrl } : {}) };
      return (await pipeline.handle(inbound)).replies;
    },
    async wait(minutes) {
      clock += minutes * 60_000;
      for (const timer of await store.timers.lease(clock, 100, 60_000)) {
        await pipeline.fireTimer(timer);
        await store.timers.ack(timer);
      }
      const sent: Outbound[] = [];
      for (const item of await store.outbox.lease(clock, 100, 3_600_000)) {
        if (item.conversationId !== id || !item.id.startsWith('timer:') || seen.has(item.id)) continue;
        seen.add(item.id);
        sent.push(Outbound.parse(item.message));
      }
      return sent;
    },
    order: readOrder,
    tickets: () => tickets,
    async mode() {
      const loaded = await store.conversations.load(id);
      return loaded?.state.mode === 'human' ? 'human' : 'bot';
    },
    close: async () => { await store.close(); },
  };
  };
}

/** Reads orders for the end checks, also when the story's shop is "down" (the data did not change then). */
function createOrderReader(shop: Shop, story: Story, data: ShopData): (id: string) => ReturnType<Shop['order']> {
  if (story.shop === 'normal' || story.shop === 'changesDown') return (id) => shop.order(id);
  const untouched = createDemoShop(data);
  return (id) => untouched.order(id);
}

