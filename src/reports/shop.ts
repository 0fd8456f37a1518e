/**
 * The shop as the bot's actions see it, telling the reports about every order the bot changed and
 * every return or exchange it created, with the reason: counted where the change happens, once
 * (asking again for what an order already is changes nothing and counts nothing).
 */
import type { OrderChange } from '../commerce/schema.ts';
import type { Shop } from '../commerce/shop.ts';
import type { ReportEvent, ReportRecorder } from './events.ts';

/** The actor prefix the pipeline gives the bot's actions: `bot@<conversationId>`. */
const BOT_ACTOR = 'bot@';

function eventOf(change: OrderChange): ReportEvent | null {
  switch (change.type) {
    case 'note': return null;
    case 'afterSale': return { kind: 'afterSale', afterSale: change.kind, reason: change.reason };
    default: return { kind: 'orderChanged', change: change.type };
  }
}

/** `shop`, with the bot's order changes counted for the reports; everything else passes through. */
export function reportingShop(shop: Shop, reports: ReportRecorder, now: () => Date): Shop {
  async function changeOrder(orderId: string, change: OrderChange, by: string): ReturnType<Shop['changeOrder']> {
    const event = eventOf(change);
    if (!event || !by.startsWith(BOT_ACTOR)) return shop.changeOrder(orderId, change, by);
    const before = await shop.order(orderId).catch(() => null);
    const after = await shop.changeOrder(orderId, change, by);
    if (before && JSON.stringify(before) === JSON.stringify(after)) return after;
    await reports.record(now(), by.slice(BOT_ACTOR.length), [event]);
    return after;
  }
  return new Proxy(shop, {
    get(target, property) {
      if (property === 'changeOrder') return changeOrder;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
