/**
 * Returns and exchanges after delivery: eligibility (delivered, inside the manager's return window,
 * no request open), which items, the new variant of each exchanged item, the reason and photo, the
 * read-back, and the request recorded in the order's `afterSale` by the shop.
 */
import { formatMoney, statusText, type AfterSaleKind, type Order } from '../../commerce/shop.ts';
import type { ActionCall, ActionDef, Json } from '../registry.ts';
import { lineRefs } from './catalog.ts';
import { NOTHING_READ, numbers, planVariants } from './changes.ts';
import { asQuickReplies, lineOptions, lineText, linesOf, numberedLines, ownedOrder, refuse, str, when, type LineView } from './common.ts';

async function mustOrder(ctx: ActionCall): Promise<Order> {
  const order = await ownedOrder(ctx);
  if (!order) throw new Error(`order ${String(ctx.vars.orderId)} vanished during the flow`);
  return order;
}

const DAY = 24 * 3_600_000;

/**
 * Whether a return or exchange may be asked for now. Refusals say why and leave `afterSaleBlock`
 * for the flow to offer the fitting path: an open request's status, cancelling an unshipped order,
 * tracking one on its way, or a person when the window has passed.
 */
export const checkAfterSale: ActionDef = {
  changesOrder: false,
  texts: ['afterSaleOpen', 'afterSaleClosed', 'afterSaleNotShipped', 'afterSaleInTransit', 'afterSaleWindowPassed', 'afterSaleKindReturn', 'afterSaleKindExchange', 'afterSaleStatusRequested', 'afterSaleStatusApproved', 'afterSaleStatusRejected', 'afterSaleStatusCompleted', 'allItems'],
  async run(ctx) {
    const order = await mustOrder(ctx);
    const days = ctx.policy.returnWindowDays;
    const base = { orderId: order.id, days };
    switch (order.status) {
      case 'return_requested':
      case 'exchange_requested': {
        const open = order.afterSale?.at(-1);
        const lines = await linesOf(ctx.shop, order, ctx.lang);
        const items = (open?.items ?? []).map((i) => lines.find((l) => l.sku === i.sku)).filter((l): l is LineView => l !== undefined).map((l) => lineText(l, ctx.lang)).join('；');
        const kind = ctx.text(open?.kind === 'exchange' ? 'afterSaleKindExchange' : 'afterSaleKindReturn')[ctx.lang];
        const status = ctx.text(`afterSaleStatus${capital(open?.status ?? 'requested')}`)[ctx.lang];
        return refuse(ctx, 'request_open', 'afterSaleOpen', { ...base, kind, items, reason: open?.reason ?? '', at: open ? when(open.at, ctx.lang) : '', status }, { data: { afterSaleBlock: 'open' } });
      }
      case 'pending_payment':
      case 'paid':
        return refuse(ctx, 'not_delivered', 'afterSaleNotShipped', base, { data: { afterSaleBlock: 'not_shipped' } });
      case 'shipped':
        return refuse(ctx, 'not_delivered', 'afterSaleInTransit', base, { data: { afterSaleBlock: 'in_transit' } });
      case 'delivered':
        break;
      default:
        return refuse(ctx, 'order_closed', 'afterSaleClosed', { ...base, statusText: statusText(order.status, ctx.lang) }, { data: { afterSaleBlock: 'closed' } });
    }
    const deliveredAt = Date.parse(order.deliveredAt ?? '');
    const endsAt = deliveredAt + days * DAY;
    if (!Number.isFinite(deliveredAt) || ctx.now().getTime() > endsAt) {
      return refuse(ctx, 'return_window_passed', 'afterSaleWindowPassed', { ...base, deliveredAt: Number.isFinite(deliveredAt) ? when(deliveredAt, ctx.lang) : '', endsAt: Number.isFinite(endsAt) ? when(endsAt, ctx.lang) : '' }, { data: { afterSaleBlock: 'window_passed' } });
    }
    const lines = await linesOf(ctx.shop, order, ctx.lang);
    return {
      ok: true,
      data: {
        linesText: numberedLines(lines, ctx.lang),
        lineOptions: asQuickReplies(lineOptions(lines, ctx.lang, ctx.text('allItems'))),
        singleLine: lines.length === 1,
        windowEndsAt: when(endsAt, ctx.lang),
      },
    };
  },
};

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}


/** Which lines to return: all of a one-line order, or those the customer names ("全部", "1和2", "T恤"). */
export const planReturn: ActionDef = {
  changesOrder: false,
  texts: ['afterSaleWhichItem'],
  async run(ctx) {
    const order = await mustOrder(ctx);
    const lines = await linesOf(ctx.shop, order, ctx.lang);
    const asked = str(ctx.vars.returnWhich);
    const refs = lines.length === 1 ? [0] : lineRefs(asked ?? str(ctx.vars.startText) ?? '', lines);
    if (refs.length === 0) return refuse(ctx, 'which_item', 'afterSaleWhichItem', {}, { quiet: asked === undefined });
    const chosen = refs.map((i) => lines[i]).filter((l): l is LineView => l !== undefined);
    const skus = [...new Set(chosen.map((l) => l.sku))];
    const pieces = lines.filter((l) => skus.includes(l.sku));
    const amount = pieces.reduce((sum, l) => sum + l.price * l.qty, 0);
    return {
      ok: true,
      data: {
        afterSaleKind: 'return',
        afterSaleItems: skus.map((sku) => ({ sku })),
        itemsText: pieces.map((l) => lineText(l, ctx.lang)).join('；'),
        refundAmount: formatMoney(Math.round(amount * 100) / 100, ctx.shop.currency),
      },
    };
  },
};

/** Which lines to exchange and for what: another variant of the same product, in stock (reserved when applied). */
export const planExchange: ActionDef = {
  changesOrder: false,
  texts: ['variantWhichItem', 'variantWhatOption', 'variantNoSuchOption', 'variantOutOfStock', 'readBackVariant'],
  async run(ctx) {
    const order = await mustOrder(ctx);
    const asked = str(ctx.vars.exchangeWish);
    const lines = await linesOf(ctx.shop, order, ctx.lang);
    const wish = asked ?? str(ctx.vars.startText) ?? '';
    const plan = planVariants(order, lines, wish, ctx.lang, { refs: numbers(ctx.vars.variantRefs), wish: str(ctx.vars.variantWishBefore) ?? '' });
    if (!plan.ok) return refuse(ctx, plan.reason, plan.text, plan.vars, { quiet: asked === undefined && NOTHING_READ.includes(plan.reason), data: { variantRefs: plan.refs, variantWishBefore: wish } });
    const items = new Map<string, string>();
    for (const { lineIndex, newSku } of plan.lines) {
      const sku = lines[lineIndex]?.sku;
      if (sku && !items.has(sku)) items.set(sku, newSku);
    }
    return {
      ok: true,
      data: {
        afterSaleKind: 'exchange',
        afterSaleItems: [...items].map(([sku, newSku]) => ({ sku, newSku })),
        itemsText: plan.rows.map((r) => ctx.text('readBackVariant', { name: r.name, old: r.old, new: r.new })[ctx.lang]).join('\n'),
        refundAmount: '',
      },
    };
  },
};

/** The reason as recorded: the fixed choice, with the customer's words for "其他". */
function reasonOf(ctx: ActionCall): string {
  const chosen = str(ctx.vars.reason) ?? '其他';
  const detail = str(ctx.vars.reasonDetail);
  return detail ? `${chosen}：${detail}` : chosen;
}

/** Whether the shop pays the return shipping: the reason is one the manager lists as the shop's fault. */
function shopAtFault(ctx: ActionCall): boolean {
  return ctx.policy.freeReturnShippingWhenFaulty && ctx.policy.faultyReasons.includes(str(ctx.vars.reason) ?? '');
}

/** The read-back of a return or exchange request: items, reason, refund, who pays the return shipping. */
export const readBackAfterSale: ActionDef = {
  changesOrder: false,
  texts: ['readBackReturn', 'readBackExchange', 'shippingShopPays', 'shippingCustomerPays', 'photoLater', 'photoReceived'],
  async run(ctx) {
    const kind = (str(ctx.vars.afterSaleKind) ?? 'return') as AfterSaleKind;
    const photo = str(ctx.vars.photo);
    const detail = str(ctx.vars.reasonDetail);
    const label = str(ctx.vars.reasonLabel) ?? str(ctx.vars.reason) ?? '';
    const vars = {
      orderId: str(ctx.vars.orderId) ?? '',
      items: str(ctx.vars.itemsText) ?? '',
      reason: detail ? `${label}${ctx.lang === 'zh' ? '：' : ': '}${detail}` : label,
      amount: str(ctx.vars.refundAmount) ?? '',
      shipping: ctx.text(shopAtFault(ctx) ? 'shippingShopPays' : 'shippingCustomerPays')[ctx.lang],
      photo: photo ? ctx.text(photo === 'later' ? 'photoLater' : 'photoReceived')[ctx.lang] : '',
    };
    return { ok: true, data: { readBack: ctx.text(kind === 'exchange' ? 'readBackExchange' : 'readBackReturn', vars)[ctx.lang] } };
  },
};

/**
 * Records the request the customer said yes to: the shop checks eligibility again, sets the status
 * (return_requested / exchange_requested), records the lines, new variants and reason in `afterSale`
 * and writes the note; a photo (or the promise of one) goes on a second note.
 */
export const applyAfterSale: ActionDef = {
  changesOrder: true,
  async run(ctx) {
    const order = await mustOrder(ctx);
    const kind = (str(ctx.vars.afterSaleKind) ?? 'return') as AfterSaleKind;
    const items = ctx.vars.afterSaleItems as unknown as { sku: string; newSku?: string }[] | undefined;
    if (!Array.isArray(items) || items.length === 0) throw new Error('applyAfterSale reached without items');
    const after = await ctx.shop.changeOrder(order.id, { type: 'afterSale', kind, items, reason: reasonOf(ctx) }, ctx.actor);
    const photo = str(ctx.vars.photo);
    if (photo) {
      const text = photo === 'later' ? '客户将稍后补发商品照片' : `客户发来的商品照片：${photo}`;
      await ctx.shop.changeOrder(order.id, { type: 'note', text }, ctx.actor);
    }
    const data: Record<string, Json> = { orderStatus: after.status, shopPaysShipping: shopAtFault(ctx) };
    return { ok: true, data };
  },
};
