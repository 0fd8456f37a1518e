/**
 * Changing an order before it ships: each planner reads what the customer wants, checks it against
 * the order and the catalog, and leaves one `pending` change with its read-back (every changed field,
 * old → new). Only `applyChange`, reached through a confirm step's yes, changes the order; the shop
 * re-checks its rules then, ignores a repeat, and writes the note (who, what, when).
 */
import { effectivePrice, formatMoney, isEditable, orderTotal, type Address, type Order, type OrderChange } from '../../commerce/shop.ts';
import { parseNumber, quantity as quantityIn } from '../../understanding/slots.ts';
import type { ActionCall, ActionDef, ActionResult, Json, Vars } from '../registry.ts';
import { clauses, lineRefs, optionValues, variantWith, wantedOptions } from './catalog.ts';
import { asQuickReplies, lineOptions, lineText, linesOf, numberedLines, ownedOrder, placeOf, refuse, str, variantWords, type LineView } from './common.ts';

/** The order, which must exist (the flow found it before). */
async function mustOrder(ctx: ActionCall): Promise<Order> {
  const order = await ownedOrder(ctx);
  if (!order) throw new Error(`order ${String(ctx.vars.orderId)} vanished during the flow`);
  return order;
}

/** Which refusal text fits an order that can no longer change, by its status. */
function notEditableText(order: Order): { reason: string; text: string } {
  switch (order.status) {
    case 'shipped': return { reason: 'already_shipped', text: 'notEditableShipped' };
    case 'delivered': case 'return_requested': case 'exchange_requested': return { reason: 'already_delivered', text: 'notEditableDelivered' };
    default: return { reason: 'order_closed', text: 'notEditableClosed' };
  }
}

/**
 * Whether the order may still change (pending payment or paid, nothing left the warehouse). A
 * shipped or delivered order gets the reason and, through `editBlock`, the after-sale path.
 */
export const checkEditable: ActionDef = {
  changesOrder: false,
  texts: ['notEditableShipped', 'notEditableDelivered', 'notEditableClosed', 'allItems'],
  async run(ctx) {
    const order = await mustOrder(ctx);
    if (!isEditable(order.status)) {
      const { reason, text } = notEditableText(order);
      return refuse(ctx, reason, text, { orderId: order.id }, { data: { editBlock: reason, orderStatus: order.status } });
    }
    const lines = await linesOf(ctx.shop, order, ctx.lang);
    return {
      ok: true,
      data: {
        orderStatus: order.status,
        linesText: numberedLines(lines, ctx.lang),
        lineOptions: asQuickReplies(lineOptions(lines, ctx.lang, ctx.text('allItems'))),
        singleLine: lines.length === 1,
        orderTotal: formatMoney(orderTotal(order), ctx.shop.currency),
      },
    };
  },
};

/** A change waiting for the customer's yes, with its read-back. */
function pending(change: OrderChange, readBack: string[], extra: Vars = {}): ActionResult {
  return { ok: true, data: { pending: change as unknown as Json, readBack: readBack.join('\n'), ...extra } };
}

// ---- address, phone, delivery request ---------------------------------------------------------

const MUNICIPALITY = /^(北京|上海|天津|重庆)(?:市)?/;
const PROVINCE = /^(.{2,8}?(?:省|自治区|特别行政区))/;
const CITY = /^(.{2,10}?(?:市|自治州|地区|盟))/;
const DISTRICT = /^(.{1,10}?(?:区|县|旗|市))/;

/**
 * A Chinese address split into province, city, district and detail, or null when a part is missing
 * ("杭州市西湖区..." without the province is refused: the shop's address needs it).
 */
export function splitAddress(text: string): Omit<Address, 'name' | 'phone'> | null {
  let rest = text.replace(/\s+/g, ' ').trim();
  let province: string;
  let city: string;
  const muni = MUNICIPALITY.exec(rest);
  if (muni?.[1]) {
    province = `${muni[1]}市`;
    city = province;
    rest = rest.slice(muni[0].length).trim();
  } else {
    const p = PROVINCE.exec(rest)?.[1];
    if (!p) return null;
    province = p;
    rest = rest.slice(p.length).trim();
    const c = CITY.exec(rest)?.[1];
    if (!c) return null;
    city = c;
    rest = rest.slice(c.length).trim();
  }
  const district = DISTRICT.exec(rest)?.[1];
  if (!district) return null;
  const detail = rest.slice(district.length).replace(/^[\s,，]+/, '').trim();
  if (detail.length < 2) return null;
  return { province, city, district, detail };
}

/** Plans a new delivery address (name and phone stay). */
export const planAddress: ActionDef = {
  changesOrder: false,
  texts: ['addressIncomplete', 'addressSame', 'readBackAddress'],
  async run(ctx) {
    const order = await mustOrder(ctx);
    const parts = splitAddress(str(ctx.vars.address) ?? '');
    if (!parts) return refuse(ctx, 'address_incomplete', 'addressIncomplete');
    const address: Address = { ...order.address, ...parts };
    if (placeOf(address) === placeOf(order.address)) return refuse(ctx, 'same_value', 'addressSame');
    return pending({ type: 'address', address }, [ctx.text('readBackAddress', { old: placeOf(order.address), new: placeOf(address) })[ctx.lang]]);
  },
};

/** Plans a new phone for delivery. */
export const planPhone: ActionDef = {
  changesOrder: false,
  texts: ['phoneSame', 'readBackPhone'],
  async run(ctx) {
    const order = await mustOrder(ctx);
    const phone = str(ctx.vars.phone) ?? '';
    if (phone === order.address.phone) return refuse(ctx, 'same_value', 'phoneSame');
    return pending({ type: 'phone', phone }, [ctx.text('readBackPhone', { old: order.address.phone, new: phone })[ctx.lang]]);
  },
};

/** Plans a delivery request (time, place: "周末送", "放快递柜"). */
export const planDeliveryRequest: ActionDef = {
  changesOrder: false,
  texts: ['readBackDelivery', 'noDeliveryRequest', 'deliveryWhat'],
  async run(ctx) {
    const order = await mustOrder(ctx);
    // The customer's own words, without the order number they may have put in the same message.
    const said = str(ctx.vars.deliveryWish) ?? str(ctx.vars.startText) ?? '';
    const text = said.replace(/[a-z]\s*\d{11}/gi, ' ').replace(/^[\s,，。.]+|[\s,，。.]+$/g, '').replace(/\s{2,}/g, ' ').slice(0, 200);
    if (text.length < 2) return refuse(ctx, 'what_request', 'deliveryWhat', {}, { quiet: true });
    const old = order.deliveryRequest ?? ctx.text('noDeliveryRequest')[ctx.lang];
    return pending({ type: 'deliveryRequest', text }, [ctx.text('readBackDelivery', { old, new: text })[ctx.lang]]);
  },
};

// ---- variants ---------------------------------------------------------------------------------

/** What the customer wants one or several lines changed to, or why it cannot be done. */
type VariantPlan =
  | { ok: true; lines: { lineIndex: number; newSku: string }[]; rows: VariantRow[] }
  /** `refs`: the lines the customer was talking about, so "那XL吧" after a refusal means the same item. */
  | { ok: false; reason: string; text: string; vars: Vars; refs: number[] };

/** One line of a variant change's read-back: the item, its options and price before and after. */
export interface VariantRow {
  name: string;
  old: string;
  new: string;
  oldPrice: number;
  newPrice: number;
}

/**
 * Reads "T恤换黑色L，牛仔裤换30码" against the order's lines: each clause names its line (or the
 * only line, or all with "都"), and the options it wants; the new variant must exist and be in stock.
 */
export function planVariants(order: Order, lines: readonly LineView[], wish: string, lang: 'zh' | 'en', earlier: { refs: readonly number[]; wish: string } = { refs: [], wish: '' }): VariantPlan {
  const planned = new Map<number, string>();
  const rows: VariantRow[] = [];
  let lastRefs: number[] = earlier.refs.filter((i) => lines[i] !== undefined);
  for (const clause of clauses(wish)) {
    let refs = lineRefs(clause, lines);
    // "那XL吧" after "T恤换黑色XXL" was refused: the same item, and the colour asked before still holds.
    const goesOn = refs.length === 0 && lastRefs.length > 0 && earlier.wish !== '';
    if (refs.length === 0) refs = lines.length === 1 ? [0] : lastRefs;
    if (refs.length === 0) return { ok: false, reason: 'which_item', text: 'variantWhichItem', vars: {}, refs: [] };
    lastRefs = refs;
    for (const index of refs) {
      const line = lines[index];
      if (!line?.product || !line.variant) continue;
      const now = wantedOptions(line.product, clause);
      const wanted = goesOn || (lines.length === 1 && earlier.wish !== '') ? { ...wantedOptions(line.product, earlier.wish).options, ...now.options } : now.options;
      const unknown = now.unknown;
      const name = line.name;
      if (unknown.length > 0 && Object.keys(wanted).length === 0) {
        return { ok: false, reason: 'no_such_option', text: 'variantNoSuchOption', vars: { name, wanted: unknown.join(' '), colors: optionValues(line.product, 'color').join('、'), sizes: optionValues(line.product, 'size').join('、') }, refs };
      }
      const target = { ...line.variant.options, ...wanted };
      const variant = variantWith(line.product, target);
      if (!variant) {
        return { ok: false, reason: 'no_such_option', text: 'variantNoSuchOption', vars: { name, wanted: Object.values(wanted).join(' '), colors: optionValues(line.product, 'color').join('、'), sizes: optionValues(line.product, 'size').join('、') }, refs };
      }
      if (variant.sku === line.sku) continue;
      const alreadyTaken = [...planned.values()].filter((sku) => sku === variant.sku).length;
      if (variant.stock < line.qty + alreadyTaken) {
        // What could be had instead: the same colour in other sizes first, else anything in stock.
        const inStock = line.product.variants.filter((v) => v.stock >= line.qty);
        const sameColor = inStock.filter((v) => v.options.color !== undefined && v.options.color === variant.options.color);
        const others = (sameColor.length > 0 ? sameColor : inStock).slice(0, 8).map((v) => variantWords(v, lang)).join(lang === 'zh' ? '、' : ', ');
        return { ok: false, reason: 'out_of_stock', text: 'variantOutOfStock', vars: { name, wanted: variantWords(variant, lang), available: variant.stock, others }, refs };
      }
      planned.set(index, variant.sku);
      const newPrice = order.status === 'pending_payment' ? effectivePrice(line.product, variant) : line.price;
      rows.push({ name, old: line.options, new: variantWords(variant, lang), oldPrice: line.price, newPrice });
    }
  }
  if (planned.size === 0) return { ok: false, reason: 'what_option', text: 'variantWhatOption', vars: {}, refs: lastRefs };
  return { ok: true, lines: [...planned].map(([lineIndex, newSku]) => ({ lineIndex, newSku })), rows };
}

/** Refusals that only mean the words did not say enough: on a first guess from the opening words they stay quiet. */
export const NOTHING_READ: readonly string[] = ['which_item', 'what_option'];

/** A var holding line numbers, as numbers. */
export function numbers(value: Json | undefined): number[] {
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number') : [];
}

/**
 * Plans a change of colour, size or other option of one or several lines. On the first try it reads
 * the words that started the flow ("T恤换成黑色的") and stays quiet when they are not enough.
 */
export const planVariant: ActionDef = {
  changesOrder: false,
  texts: ['variantWhichItem', 'variantWhatOption', 'variantNoSuchOption', 'variantOutOfStock', 'readBackVariant', 'readBackPrice'],
  async run(ctx) {
    const order = await mustOrder(ctx);
    const asked = str(ctx.vars.variantWish);
    const wish = asked ?? str(ctx.vars.startText) ?? '';
    const lines = await linesOf(ctx.shop, order, ctx.lang);
    const plan = planVariants(order, lines, wish, ctx.lang, { refs: numbers(ctx.vars.variantRefs), wish: str(ctx.vars.variantWishBefore) ?? '' });
    if (!plan.ok) return refuse(ctx, plan.reason, plan.text, plan.vars, { quiet: asked === undefined && NOTHING_READ.includes(plan.reason), data: { variantRefs: plan.refs, variantWishBefore: wish } });
    const readBack = plan.rows.map((r) => {
      const price = r.oldPrice !== r.newPrice ? ctx.text('readBackPrice', { old: formatMoney(r.oldPrice, ctx.shop.currency), new: formatMoney(r.newPrice, ctx.shop.currency) })[ctx.lang] : '';
      return ctx.text('readBackVariant', { name: r.name, old: r.old, new: r.new })[ctx.lang] + price;
    });
    return pending({ type: 'variant', lines: plan.lines }, readBack);
  },
};

// ---- quantity ---------------------------------------------------------------------------------

const REMOVE_WORDS = /不要了|删掉|删除|去掉|拿掉|remove|delete|drop|don'?t want/i;

/** The number of pieces a text asks for: "2件", "改成3", "要两条", "just 1", "不要了" (0). */
export function wantedQuantity(text: string): number | undefined {
  const unit = quantityIn(text);
  if (unit !== undefined) return unit;
  const cue = /(?:改成|改为|换成|变成|要|only|just|to|make it)\s*([\d一二两三四五六七八九十]{1,3})(?![\d])/i.exec(text)?.[1];
  const bare = /^\s*([\d一二两三四五六七八九十]{1,3})\s*$/.exec(text)?.[1];
  const n = parseNumber(cue ?? bare ?? '');
  if (n !== undefined && Number.isInteger(n) && n >= 0 && n <= 999) return n;
  return REMOVE_WORDS.test(text) ? 0 : undefined;
}

/** Plans a new number of pieces of one product line (0 removes it, unless it is the last). */
export const planQuantity: ActionDef = {
  changesOrder: false,
  texts: ['quantityWhichItem', 'quantityHowMany', 'quantitySame', 'quantityOutOfStock', 'quantityLastItem', 'readBackQuantity'],
  async run(ctx) {
    const order = await mustOrder(ctx);
    const asked = str(ctx.vars.quantityWish);
    const wish = asked ?? str(ctx.vars.startText) ?? '';
    const quiet = asked === undefined;
    const lines = await linesOf(ctx.shop, order, ctx.lang);
    const skus = [...new Set(lines.map((l) => l.sku))];
    let refs = lineRefs(wish, lines);
    if (refs.length === 0 && skus.length === 1) refs = lines.map((l) => l.index);
    const sku = [...new Set(refs.map((i) => lines[i]?.sku))];
    if (sku.length !== 1 || sku[0] === undefined) return refuse(ctx, 'which_item', 'quantityWhichItem', {}, { quiet });
    const qty = wantedQuantity(wish.replace(/第\s*[一二两三四五六七八九十\d]+\s*(?:件|个|条|行)?/g, ' '));
    if (qty === undefined) return refuse(ctx, 'how_many', 'quantityHowMany', {}, { quiet });
    const mine = lines.filter((l) => l.sku === sku[0]);
    const first = mine[0];
    if (!first?.variant) return refuse(ctx, 'which_item', 'quantityWhichItem', {}, { quiet });
    const current = mine.reduce((sum, l) => sum + l.qty, 0);
    const vars = { name: first.name, options: first.options, old: current, new: qty };
    if (qty === current) return refuse(ctx, 'same_value', 'quantitySame', vars);
    if (qty === 0 && skus.length === 1) return refuse(ctx, 'order_would_be_empty', 'quantityLastItem', vars);
    if (qty - current > first.variant.stock) return refuse(ctx, 'out_of_stock', 'quantityOutOfStock', { ...vars, available: first.variant.stock });
    const oldTotal = orderTotal(order);
    const newTotal = Math.round((oldTotal + (qty - current) * first.price) * 100) / 100;
    const readBack = ctx.text('readBackQuantity', { ...vars, oldTotal: formatMoney(oldTotal, ctx.shop.currency), newTotal: formatMoney(newTotal, ctx.shop.currency) })[ctx.lang];
    return pending({ type: 'quantity', sku: first.sku, qty }, [readBack]);
  },
};

// ---- cancel -----------------------------------------------------------------------------------

/** The cancellation reason as recorded (the choice, and the customer's words for "other"). */
function cancelReason(vars: Vars): string {
  const chosen = str(vars.cancelReason) ?? '其他';
  const detail = str(vars.cancelDetail);
  return detail ? `${chosen}：${detail}` : chosen;
}

/** Plans a cancellation: what is cancelled, the amount and refund, and the reason, read back. */
export const planCancel: ActionDef = {
  changesOrder: false,
  texts: ['readBackCancel', 'refundToOriginal', 'nothingToRefund'],
  async run(ctx) {
    const order = await mustOrder(ctx);
    const lines = await linesOf(ctx.shop, order, ctx.lang);
    const paid = order.status === 'paid';
    const reason = cancelReason(ctx.vars);
    const detail = str(ctx.vars.cancelDetail);
    const label = str(ctx.vars.cancelReasonLabel) ?? str(ctx.vars.cancelReason) ?? '';
    const readBack = ctx.text('readBackCancel', {
      orderId: order.id,
      items: lines.map((l) => lineText(l, ctx.lang)).join('；'),
      total: formatMoney(orderTotal(order), ctx.shop.currency),
      refund: ctx.text(paid ? 'refundToOriginal' : 'nothingToRefund')[ctx.lang],
      reason: detail ? `${label}${ctx.lang === 'zh' ? '：' : ': '}${detail}` : label,
    })[ctx.lang];
    return pending({ type: 'cancel', reason }, [readBack], { refundAmount: paid ? formatMoney(orderTotal(order), ctx.shop.currency) : '', wasPaid: paid });
  },
};

// ---- apply ------------------------------------------------------------------------------------

/**
 * Applies the pending change the customer said yes to. The shop checks its rules again now (the
 * order may have shipped meanwhile), changes nothing for a repeat, and writes the note.
 */
export const applyChange: ActionDef = {
  changesOrder: true,
  async run(ctx) {
    const change = ctx.vars.pending as unknown as OrderChange | undefined;
    if (!change || typeof change !== 'object') throw new Error('applyChange reached without a pending change');
    const order = await mustOrder(ctx);
    const after = await ctx.shop.changeOrder(order.id, change, ctx.actor);
    return { ok: true, data: { orderStatus: after.status, applied: true } };
  },
};
