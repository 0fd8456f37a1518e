/** Finding the customer's order and proving it is theirs; showing it with its tracking and the promised dates. */
import type { OrderCardData } from '../../bots/messages.ts';
import { orderTotal, ownsOrder, statusText, type Order, type Shop } from '../../commerce/shop.ts';
import type { ActionDef, ActionResult, Json } from '../registry.ts';
import { asQuickReplies, lineText, linesOf, orderOf, ownedOrder, placeOf, refuse, str, when, type LineView } from './common.ts';

/**
 * A bound customer (WeChat/Telegram identity matched to the shop's customer) gets their recent
 * orders as quick replies instead of typing a number; nothing is listed to anyone else.
 */
export const offerMyOrders: ActionDef = {
  changesOrder: false,
  async run(ctx): Promise<ActionResult> {
    if (str(ctx.vars.orderId) || !ctx.shopCustomerId) return { ok: true, data: { ordersListed: false } };
    const orders = (await ctx.shop.ordersOf(ctx.shopCustomerId)).slice(0, 5);
    if (orders.length === 0) return { ok: true, data: { ordersListed: false } };
    const options = await Promise.all(orders.map(async (o) => {
      const [first] = await linesOf(ctx.shop, o, ctx.lang);
      const more = o.items.length > 1 ? (ctx.lang === 'zh' ? `等${o.items.length}件` : ` +${o.items.length - 1}`) : '';
      return { label: `${o.id} ${statusText(o.status, ctx.lang)} ${first?.name ?? ''}${more}`.slice(0, 60), value: o.id };
    }));
    return { ok: true, data: { ordersListed: true, myOrders: asQuickReplies(options) } };
  },
};

/** The order named in the flow's `orderId` slot, or a refusal. Never shows anything before ownership is known. */
export const findOrder: ActionDef = {
  changesOrder: false,
  texts: ['orderNotFound'],
  async run(ctx) {
    const orderId = str(ctx.vars.orderId)?.toUpperCase();
    const order = orderId ? await ctx.shop.order(orderId) : null;
    if (!order) return refuse(ctx, 'no_such_order', 'orderNotFound', { orderId: orderId ?? '' });
    const owned = ctx.vars.orderOwned === true && ctx.vars.orderId === order.id
      || ctx.shopCustomerId !== null && ownsOrder(order, { customerId: ctx.shopCustomerId });
    return { ok: true, data: { orderId: order.id, orderOwned: owned } };
  },
};

/** Proof of ownership by the last 4 digits of the order's phone (DESIGN.md). */
export const verifyOrderOwner: ActionDef = {
  changesOrder: false,
  texts: ['orderNotOwner'],
  async run(ctx) {
    const order = await orderOf(ctx);
    const last4 = str(ctx.vars.phoneLast4);
    if (order && last4 && ownsOrder(order, { phoneLast4: last4 })) return { ok: true, data: { orderOwned: true } };
    return refuse(ctx, 'not_owner', 'orderNotOwner');
  },
};

/** The order as a card: status, lines, total, the last tracking events. Only after ownership was proven. */
export const showOrder: ActionDef = {
  changesOrder: false,
  texts: ['orderSummary', 'orderTracking', 'orderAfterSale', 'afterSaleKindReturn', 'afterSaleKindExchange', 'afterSaleStatusRequested',
    'afterSaleStatusApproved', 'afterSaleStatusRejected', 'afterSaleStatusCompleted'],
  async run(ctx) {
    const order = await ownedOrder(ctx);
    if (!order) return refuse(ctx, 'no_such_order', 'orderNotFound', { orderId: str(ctx.vars.orderId) ?? '' });
    const card = await orderCard(ctx.shop, order, ctx.lang);
    const events = (order.shipment?.events ?? []).slice(-3).reverse().map((e) => `${when(e.at, ctx.lang)} ${e.text}`).join('\n');
    const vars = { orderId: order.id, statusText: card.statusText, carrier: order.shipment?.carrier ?? '', trackingNo: order.shipment?.trackingNo ?? '', events };
    const parts = [ctx.text('orderSummary', vars)[ctx.lang]];
    // A return or exchange on the order: its record first, it is what the customer is waiting for.
    const request = order.afterSale?.at(-1);
    if (request) {
      const lines = await linesOf(ctx.shop, order, ctx.lang);
      const items = request.items.map((i) => lines.find((l) => l.sku === i.sku)).filter((l): l is LineView => l !== undefined).map((l) => lineText(l, ctx.lang)).join('；');
      parts.push(ctx.text('orderAfterSale', {
        kind: ctx.text(request.kind === 'exchange' ? 'afterSaleKindExchange' : 'afterSaleKindReturn')[ctx.lang],
        items, reason: request.reason, at: when(request.at, ctx.lang),
        status: ctx.text(`afterSaleStatus${request.status.charAt(0).toUpperCase()}${request.status.slice(1)}`)[ctx.lang],
      })[ctx.lang]);
    }
    if (order.shipment) parts.push(ctx.text('orderTracking', vars)[ctx.lang]);
    const text = parts.join('\n');
    return { ok: true, replies: [{ kind: 'orderCard', text, order: card }], data: { orderStatus: order.status } };
  },
};

const HOUR = 3_600_000;

/**
 * When the order ships or arrives, by the manager's promises (shipWithinHours, deliveryDays). A late
 * order gets an apology; past lateTicketHours the flow opens a follow-up ticket (`lateTicket`).
 * For a paid order it also hands the flow the address and phone to confirm before shipping.
 */
export const checkDelivery: ActionDef = {
  changesOrder: false,
  texts: ['shipPromise', 'shipLate', 'arrivalExpected', 'arrivalLate'],
  async run(ctx) {
    const order = await ownedOrder(ctx);
    if (!order) return { ok: true, data: { late: false, lateTicket: false } };
    const now = ctx.now().getTime();
    const data: Record<string, Json> = {
      orderStatus: order.status,
      late: false,
      lateTicket: false,
      addressLine: `${order.address.name} ${placeOf(order.address)}`,
      contactPhone: order.address.phone,
    };
    let promised: number | undefined;
    let names: { onTime: string; late: string } | undefined;
    if (order.status === 'paid' && order.paidAt) {
      promised = Date.parse(order.paidAt) + ctx.policy.shipWithinHours * HOUR;
      names = { onTime: 'shipPromise', late: 'shipLate' };
    } else if (order.status === 'shipped' && order.shippedAt) {
      promised = Date.parse(order.shippedAt) + ctx.policy.deliveryDays * 24 * HOUR;
      names = { onTime: 'arrivalExpected', late: 'arrivalLate' };
    }
    if (promised === undefined || !names) return { ok: true, data };
    const lateBy = now - promised;
    data.promisedAt = when(promised, ctx.lang);
    data.late = lateBy > 0;
    data.lateTicket = lateBy > ctx.policy.lateTicketHours * HOUR;
    const text = ctx.text(lateBy > 0 ? names.late : names.onTime, { promisedAt: data.promisedAt });
    return { ok: true, data, replies: [{ kind: 'text', text: text[ctx.lang] }] };
  },
};

/** The order card's data, all facts from the shop. */
export async function orderCard(shop: Shop, order: Order, lang: 'zh' | 'en'): Promise<OrderCardData> {
  const lines = await linesOf(shop, order, lang);
  return {
    orderId: order.id,
    status: order.status,
    statusText: statusText(order.status, lang),
    lines: lines.map((l) => ({ name: l.name, options: l.options, qty: l.qty, price: l.price })),
    total: orderTotal(order),
    currency: shop.currency,
    ...(order.shipment ? { tracking: `${order.shipment.carrier} ${order.shipment.trackingNo}` } : {}),
  };
}
