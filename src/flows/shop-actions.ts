/** The actions and guards the shipped flows name: find an order, prove it is the customer's, show it. */
import type { OrderCardData } from '../bots/messages.ts';
import { describeVariant, orderTotal, ownsOrder, ShopError, shopErrorText, statusText, type Order, type Shop } from '../commerce/shop.ts';
import type { ActionContext, ActionDef, ActionRegistry, ActionResult, GuardRegistry } from './registry.ts';

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** A refusal worded by the shop's rules, in both languages. */
function refused(error: ShopError): ActionResult {
  return { ok: false, reason: error.reason, text: { zh: shopErrorText(error, 'zh'), en: shopErrorText(error, 'en') } };
}

/** The order named in the flow's `orderId` slot, or a refusal. Never shows anything before ownership is known. */
const findOrder: ActionDef = {
  changesOrder: false,
  async run(ctx) {
    const orderId = str(ctx.vars.orderId)?.toUpperCase();
    const order = orderId ? await ctx.shop.order(orderId) : null;
    if (!order) {
      return { ok: false, reason: 'no_such_order', text: { zh: `没有查到订单 ${orderId ?? ''}，请核对一下订单号好吗？`, en: `I could not find order ${orderId ?? ''}. Could you check the number?` } };
    }
    const owned = ctx.shopCustomerId !== null && ownsOrder(order, { customerId: ctx.shopCustomerId });
    return { ok: true, data: { orderId: order.id, orderOwned: owned } };
  },
};

/** Proof of ownership by the last 4 digits of the order's phone (DESIGN.md). */
const verifyOrderOwner: ActionDef = {
  changesOrder: false,
  async run(ctx) {
    const order = await orderOf(ctx);
    const last4 = str(ctx.vars.phoneLast4);
    if (order && last4 && ownsOrder(order, { phoneLast4: last4 })) return { ok: true, data: { orderOwned: true } };
    return {
      ok: false,
      reason: 'not_owner',
      text: { zh: '抱歉，手机尾号和订单对不上。为保护您的隐私，我不能显示这个订单。', en: 'Sorry, those digits do not match the order. To protect your privacy I cannot show this order.' },
    };
  },
};

/** The order as a card: status, lines, total, latest tracking event. Only after ownership was proven. */
const showOrder: ActionDef = {
  changesOrder: false,
  async run(ctx) {
    if (ctx.vars.orderOwned !== true) throw new Error('showOrder reached without proof of ownership');
    const order = await orderOf(ctx);
    if (!order) return { ok: false, reason: 'no_such_order', text: { zh: '没有查到这个订单。', en: 'I could not find that order.' } };
    const card = await orderCard(ctx.shop, order, ctx.lang);
    const latest = order.shipment?.events.at(-1);
    const zh = ctx.lang === 'zh';
    const text = zh
      ? `订单 ${order.id}：${card.statusText}${latest ? `。最新物流（${order.shipment?.carrier} ${order.shipment?.trackingNo}）：${latest.text}` : ''}`
      : `Order ${order.id}: ${card.statusText}${latest ? `. Latest tracking (${order.shipment?.carrier} ${order.shipment?.trackingNo}): ${latest.text}` : ''}`;
    return { ok: true, replies: [{ kind: 'orderCard', text, order: card }], data: { orderStatus: order.status } };
  },
};

async function orderOf(ctx: ActionContext): Promise<Order | null> {
  const id = str(ctx.vars.orderId);
  return id ? ctx.shop.order(id) : null;
}

/** The order card's data, all facts from the shop. */
export async function orderCard(shop: Shop, order: Order, lang: 'zh' | 'en'): Promise<OrderCardData> {
  const lines = await Promise.all(order.items.map(async (item) => {
    const found = await shop.variant(item.sku);
    const name = found ? (lang === 'en' && found.product.nameEn ? found.product.nameEn : found.product.name) : item.sku;
    return { name, options: found ? describeVariant(found.variant) : '', qty: item.qty, price: item.price };
  }));
  return {
    orderId: order.id,
    status: order.status,
    statusText: statusText(order.status, lang),
    lines,
    total: orderTotal(order),
    currency: shop.currency,
    ...(order.shipment ? { tracking: `${order.shipment.carrier} ${order.shipment.trackingNo}` } : {}),
  };
}

/** Wraps an action so that the shop's rule refusals become the customer-facing refusal. */
function refusing(def: ActionDef): ActionDef {
  return {
    changesOrder: def.changesOrder,
    async run(ctx) {
      try {
        return await def.run(ctx);
      } catch (error) {
        if (error instanceof ShopError && error.code !== 'unavailable') return refused(error);
        throw error;
      }
    },
  };
}

/** Every action the shipped library may name. */
export const shopActions: ActionRegistry = {
  findOrder: refusing(findOrder),
  verifyOrderOwner: refusing(verifyOrderOwner),
  showOrder: refusing(showOrder),
};

/** Every guard the shipped library may name. */
export const shopGuards: GuardRegistry = {
  orderOwned: (vars) => vars.orderOwned === true,
};
