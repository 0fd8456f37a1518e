/** The shop as the rest of the bot sees it: one `Shop` interface, `ShopError`, and the pure order rules. */
import type {
  Address,
  AfterSale,
  Customer,
  Order,
  OrderChange,
  OrderItem,
  OrderStatus,
  Product,
  Promotion,
  Variant,
} from './schema.ts';

export type {
  Address,
  AfterSale,
  AfterSaleKind,
  AfterSaleStatus,
  Customer,
  Order,
  OrderChange,
  OrderItem,
  OrderNote,
  OrderStatus,
  Product,
  Promotion,
  Shipment,
  ShipmentEvent,
  ShopData,
  SizeChartRow,
  Variant,
} from './schema.ts';

/** Where "now" comes from; injected so rules that depend on time (the return window) are testable. */
export type Clock = () => Date;

/** The channels whose user ids a customer record can carry. */
export type CustomerChannel = 'wechat' | 'telegram';

/**
 * The shop: catalog, customers and orders. Implemented by the built-in demo shop (demo-shop.ts) and
 * by an adapter for a real shop backend; both pass test/commerce.contract.test.ts.
 * Changing a returned object never changes the shop: results are copies, or frozen (the demo
 * shop's catalog), so callers treat them as read-only.
 * Failures are `ShopError`s (code `unavailable` when the shop cannot be reached).
 */
export interface Shop {
  /** ISO 4217 code of all prices, e.g. CNY. */
  readonly currency: string;
  /** True when the shop answers (for /healthz). */
  ping(): Promise<boolean>;
  products(): Promise<Product[]>;
  product(id: string): Promise<Product | null>;
  /** The variant with this sku and the product it belongs to. */
  variant(sku: string): Promise<{ product: Product; variant: Variant } | null>;
  customer(id: string): Promise<Customer | null>;
  /** The customer whose `wechatId` / `telegramId` is this platform user id. */
  customerByChannel(channel: CustomerChannel, userId: string): Promise<Customer | null>;
  order(id: string): Promise<Order | null>;
  /** The customer's orders, newest first. */
  ordersOf(customerId: string): Promise<Order[]>;
  /** Promotions valid at that time (validFrom <= at <= validTo). */
  promotions(at: Date): Promise<Promotion[]>;
  /**
   * Applies a change under the shop's rules (see `applyOrderChange`) and records it as a note.
   * Asking again for what the order already is returns it unchanged, without a second note.
   * @param by who asks, recorded on the note: `bot`, an agent's username.
   * @throws ShopError when a rule refuses, the order or a sku is unknown, or the shop is unavailable.
   */
  changeOrder(orderId: string, change: OrderChange, by: string): Promise<Order>;
}

/** What kind of failure: the bot answers `not_allowed` and `out_of_stock` with the reason, `unavailable` with a follow-up ticket. */
export type ShopErrorCode = 'not_found' | 'not_allowed' | 'out_of_stock' | 'invalid' | 'unavailable';

/**
 * Why, as a key the bot turns into words (`shopErrorText` or the library's canned replies).
 * - not_found: `no_such_order`, `no_such_sku`
 * - not_allowed: `already_shipped`, `already_delivered`, `order_closed`, `not_same_product`,
 *   `not_delivered`, `return_window_passed`, `request_open`
 * - out_of_stock: `out_of_stock`
 * - invalid: `bad_change`, `no_such_line`, `sku_not_in_order`, `order_would_be_empty`, `new_sku_required`, `duplicate_sku`
 * - unavailable: `shop_unavailable`, `timeout`
 */
export type ShopErrorReason =
  | 'no_such_order'
  | 'no_such_sku'
  | 'already_shipped'
  | 'already_delivered'
  | 'order_closed'
  | 'not_same_product'
  | 'not_delivered'
  | 'return_window_passed'
  | 'request_open'
  | 'out_of_stock'
  | 'bad_change'
  | 'no_such_line'
  | 'sku_not_in_order'
  | 'order_would_be_empty'
  | 'new_sku_required'
  | 'duplicate_sku'
  | 'shop_unavailable'
  | 'timeout';

/** Facts behind a refusal, for the reply ("only 2 left", "the window closed on …") and the log. */
export interface ShopErrorDetails {
  orderId?: string;
  status?: OrderStatus;
  sku?: string;
  /** Pieces in stock, and pieces the change needed. */
  available?: number;
  wanted?: number;
  deliveredAt?: string;
  windowDays?: number;
  windowEndsAt?: string;
  lineIndex?: number;
  /** Schema problems of a `bad_change`: path and message. */
  issues?: { path: string; message: string }[];
}

const httpStatusOf: Record<ShopErrorCode, number> = {
  not_found: 404,
  not_allowed: 409,
  out_of_stock: 409,
  invalid: 400,
  unavailable: 503,
};

/** The one error of the commerce part (STYLE.md §6). */
export class ShopError extends Error {
  constructor(
    readonly code: ShopErrorCode,
    readonly reason: ShopErrorReason,
    readonly details: ShopErrorDetails = {},
    message?: string,
  ) {
    super(message ?? `${code}: ${reason}${Object.keys(details).length > 0 ? ` ${JSON.stringify(details)}` : ''}`);
    this.name = 'ShopError';
  }

  /** Only an unreachable shop is worth retrying; a refusal stays a refusal. */
  get retryable(): boolean {
    return this.code === 'unavailable';
  }

  /** The HTTP status that fits, for the server's `{error: {code, message}}` answers. */
  get httpStatus(): number {
    return httpStatusOf[this.code];
  }
}

/** Statuses in which the customer may still change or cancel the order: nothing has left the warehouse. */
export const EDITABLE_STATUSES: readonly OrderStatus[] = ['pending_payment', 'paid'];

/** Whether address, phone, delivery request, variants and quantities may still change. */
export function isEditable(status: OrderStatus): boolean {
  return EDITABLE_STATUSES.includes(status);
}

/** Return window in days when the shop sets none (七天无理由退换). */
export const DEFAULT_RETURN_WINDOW_DAYS = 7;

/** When the return window of a delivered order ends, or null when it has no delivery time. */
export function returnWindowEndsAt(order: Pick<Order, 'deliveredAt'>, days: number): Date | null {
  if (order.deliveredAt === undefined) return null;
  return new Date(Date.parse(order.deliveredAt) + days * 24 * 60 * 60 * 1000);
}

/**
 * Whether whoever asks may see and change this order: their channel identity is bound to the
 * order's customer, or they gave the last 4 digits of the phone on the order's address.
 */
export function ownsOrder(order: Order, proof: { customerId?: string; phoneLast4?: string }): boolean {
  if (proof.customerId !== undefined && proof.customerId === order.customerId) return true;
  const last4 = proof.phoneLast4?.trim();
  if (last4 === undefined || !/^\d{4}$/.test(last4)) return false;
  return order.address.phone.replace(/\D/g, '').endsWith(last4);
}

/** Rounds to cents; sums of prices in floating point drift otherwise (0.1 + 0.2). */
function cents(amount: number): number {
  return Math.round(amount * 100) / 100;
}

/** Sum of price × qty over the order's lines. */
export function orderTotal(order: Pick<Order, 'items'>): number {
  return cents(order.items.reduce((sum, item) => sum + item.price * item.qty, 0));
}

/** The price a variant sells at: its own, or the product's. */
export function effectivePrice(product: Product, variant: Variant): number {
  return variant.price ?? product.price;
}

/** `¥79.00` for CNY, `79.00 USD` otherwise. */
export function formatMoney(amount: number, currency: string): string {
  return currency === 'CNY' ? `¥${amount.toFixed(2)}` : `${amount.toFixed(2)} ${currency}`;
}

/** Colour and size first (how people name clothes), then any other option in the file's order. */
const OPTION_ORDER = ['color', 'size'];

/** A variant in words from its options, e.g. "白色 / L"; empty when it has none. */
export function describeVariant(variant: Pick<Variant, 'options'>): string {
  const keys = Object.keys(variant.options);
  const ordered = [...OPTION_ORDER.filter((k) => keys.includes(k)), ...keys.filter((k) => !OPTION_ORDER.includes(k))];
  return ordered.map((k) => variant.options[k]).filter((v) => v !== undefined && v !== '').join(' / ');
}

const STATUS_TEXT: Record<OrderStatus, { zh: string; en: string }> = {
  pending_payment: { zh: '待付款', en: 'awaiting payment' },
  paid: { zh: '已付款，待发货', en: 'paid, awaiting shipment' },
  shipped: { zh: '已发货', en: 'shipped' },
  delivered: { zh: '已签收', en: 'delivered' },
  cancelled: { zh: '已取消', en: 'cancelled' },
  return_requested: { zh: '退货申请中', en: 'return requested' },
  returned: { zh: '已退货', en: 'returned' },
  refunded: { zh: '已退款', en: 'refunded' },
  exchange_requested: { zh: '换货申请中', en: 'exchange requested' },
};

/** An order status as a customer reads it. */
export function statusText(status: OrderStatus, lang: 'zh' | 'en'): string {
  return STATUS_TEXT[status][lang];
}

/** A Chinese address on one line: `张伟 13812345678 广东省深圳市南山区科技园路88号`. */
export function formatAddress(address: Address): string {
  return `${address.name} ${address.phone} ${address.province}${address.city === address.province ? '' : address.city}${address.district}${address.detail}`;
}

/** Default customer-facing words for a refusal; the script library may override them by reason. */
export function shopErrorText(error: ShopError, lang: 'zh' | 'en'): string {
  const d = error.details;
  const zh = lang === 'zh';
  switch (error.reason) {
    case 'no_such_order':
      return zh ? '没有查到这个订单号，请核对一下好吗？' : 'I could not find that order number. Could you check it?';
    case 'no_such_sku':
      return zh ? '没有找到这个款式。' : 'I could not find that item.';
    case 'already_shipped':
      return zh ? '订单已经发货，无法再修改或取消了。' : 'The order has already shipped, so it can no longer be changed or cancelled.';
    case 'already_delivered':
      return zh ? '订单已经签收，无法修改；如需退换货可以帮您申请。' : 'The order has been delivered and cannot be changed; I can help with a return or exchange.';
    case 'order_closed':
      return zh ? '这个订单已经关闭（已取消或已退款），无法再修改。' : 'This order is closed (cancelled or refunded) and cannot be changed.';
    case 'not_same_product':
      return zh ? '只能换成同一款商品的其他颜色或尺码。' : 'You can only switch to another colour or size of the same product.';
    case 'not_delivered':
      return zh ? '订单签收后才能申请退换货。' : 'Returns and exchanges can be requested once the order is delivered.';
    case 'return_window_passed':
      return zh
        ? `已超过签收后${d.windowDays ?? DEFAULT_RETURN_WINDOW_DAYS}天的退换货期限。`
        : `The ${d.windowDays ?? DEFAULT_RETURN_WINDOW_DAYS}-day return window after delivery has passed.`;
    case 'request_open':
      return zh ? '这个订单已有一个退换货申请在处理中。' : 'A return or exchange request for this order is already being handled.';
    case 'out_of_stock':
      return zh
        ? `这个款式库存不足${d.available !== undefined ? `（仅剩${d.available}件）` : ''}。`
        : `Not enough in stock${d.available !== undefined ? ` (only ${d.available} left)` : ''}.`;
    case 'order_would_be_empty':
      return zh ? '订单里只剩这一件商品了，如不需要可以取消订单。' : 'This is the last item on the order; you can cancel the order instead.';
    case 'shop_unavailable':
    case 'timeout':
      return zh ? '订单系统暂时无法查询，我们已记录您的问题，恢复后会第一时间为您处理。' : 'The order system cannot be reached right now; we have noted your request and will handle it as soon as it is back.';
    case 'bad_change':
    case 'no_such_line':
    case 'sku_not_in_order':
    case 'new_sku_required':
    case 'duplicate_sku':
      return zh ? '这个修改信息不完整或与订单不符，请再确认一下。' : 'That change is incomplete or does not match the order; could you check it?';
  }
}

/** What `applyOrderChange` needs to know besides the order. */
export interface OrderChangeContext {
  /** The catalog, with stock as it is now. */
  variant(sku: string): { product: Product; variant: Variant } | null;
  now: Date;
  /** Who asks, recorded on the note. */
  by: string;
  returnWindowDays: number;
  currency: string;
}

/** Stock to add (positive, pieces freed) or take (negative, pieces reserved) for one sku. */
export interface StockMove {
  sku: string;
  delta: number;
}

/** The outcome of a change the rules allow. */
export interface OrderChangeResult {
  /** The order after the change; a new object, the input is not touched. */
  order: Order;
  /** False when the order already was as asked: nothing to store and no note was added. */
  changed: boolean;
  /** Stock to apply to the catalog together with the order, all or nothing. */
  stock: StockMove[];
}

function unchanged(order: Order): OrderChangeResult {
  return { order, changed: false, stock: [] };
}

/** Refuses a change of address, items or a cancellation once anything has left the warehouse. */
function requireEditable(order: Order): void {
  if (isEditable(order.status)) return;
  const details = { orderId: order.id, status: order.status };
  switch (order.status) {
    case 'shipped':
      throw new ShopError('not_allowed', 'already_shipped', details);
    case 'delivered':
    case 'return_requested':
    case 'exchange_requested':
      throw new ShopError('not_allowed', 'already_delivered', details);
    default:
      throw new ShopError('not_allowed', 'order_closed', details);
  }
}

function lookup(ctx: OrderChangeContext, sku: string): { product: Product; variant: Variant } {
  const found = ctx.variant(sku);
  if (found === null) throw new ShopError('not_found', 'no_such_sku', { sku });
  return found;
}

/** Sums moves per sku and refuses when any sku would go below zero. */
function settleStock(ctx: OrderChangeContext, moves: StockMove[]): StockMove[] {
  const net = new Map<string, number>();
  for (const m of moves) net.set(m.sku, (net.get(m.sku) ?? 0) + m.delta);
  const settled: StockMove[] = [];
  for (const [sku, delta] of net) {
    if (delta === 0) continue;
    if (delta < 0) {
      const available = lookup(ctx, sku).variant.stock;
      if (available + delta < 0) throw new ShopError('out_of_stock', 'out_of_stock', { sku, available, wanted: -delta });
    }
    settled.push({ sku, delta });
  }
  return settled;
}

/** "纯棉圆领T恤（白色 / L）" for a sku, falling back to the sku itself when the catalog lost it. */
function itemName(ctx: OrderChangeContext, sku: string): string {
  const found = ctx.variant(sku);
  if (found === null) return sku;
  const options = describeVariant(found.variant);
  return options === '' ? found.product.name : `${found.product.name}（${options}）`;
}

function withNote(order: Order, ctx: OrderChangeContext, text: string, patch: Partial<Order>): Order {
  return { ...order, ...patch, notes: [...order.notes, { at: ctx.now.toISOString(), by: ctx.by, text }] };
}

function sameAddress(a: Address, b: Address): boolean {
  return a.name === b.name && a.phone === b.phone && a.province === b.province && a.city === b.city && a.district === b.district && a.detail === b.detail;
}

/**
 * The shop's rules for changing an order, as a pure function: it returns the changed order and the
 * stock moves, or throws `ShopError`. A storage (the demo shop) applies the result atomically.
 *
 * - address, phone, deliveryRequest, variant, quantity, cancel: only while `pending_payment` or `paid`.
 * - variant: another variant of the same product, in stock; the old pieces go back to stock. The line
 *   keeps its price once paid (the customer paid it), and takes the new variant's price before.
 * - quantity: sets the pieces of a sku already on the order; more pieces need stock; 0 removes the sku
 *   unless it is the last one (then cancel).
 * - cancel: status `cancelled`, every piece back to stock. Cancelling a cancelled order changes nothing.
 * - afterSale: only when `delivered` and within `returnWindowDays` of deliveredAt; an exchange's new
 *   variant must be of the same product and in stock (it is reserved). Status `return_requested` /
 *   `exchange_requested`, an `afterSale` entry `requested`. The same request again changes nothing.
 * - note: any status; the same text by the same author as the last note changes nothing.
 *
 * Every change adds a note saying what changed from what to what.
 */
export function applyOrderChange(order: Order, change: OrderChange, ctx: OrderChangeContext): OrderChangeResult {
  switch (change.type) {
    case 'address': {
      requireEditable(order);
      if (sameAddress(order.address, change.address)) return unchanged(order);
      const text = `地址由「${formatAddress(order.address)}」改为「${formatAddress(change.address)}」`;
      return { order: withNote(order, ctx, text, { address: { ...change.address } }), changed: true, stock: [] };
    }
    case 'phone': {
      requireEditable(order);
      if (order.address.phone === change.phone) return unchanged(order);
      const text = `收货电话由 ${order.address.phone} 改为 ${change.phone}`;
      return { order: withNote(order, ctx, text, { address: { ...order.address, phone: change.phone } }), changed: true, stock: [] };
    }
    case 'deliveryRequest': {
      requireEditable(order);
      if (order.deliveryRequest === change.text) return unchanged(order);
      const text = `配送要求由「${order.deliveryRequest ?? '无'}」改为「${change.text}」`;
      return { order: withNote(order, ctx, text, { deliveryRequest: change.text }), changed: true, stock: [] };
    }
    case 'variant':
      return changeVariants(order, change.lines, ctx);
    case 'quantity':
      return changeQuantity(order, change.sku, change.qty, ctx);
    case 'cancel': {
      if (order.status === 'cancelled') return unchanged(order);
      requireEditable(order);
      const stock = settleStock(ctx, order.items.map((i) => ({ sku: i.sku, delta: i.qty })));
      const refund = order.paidAt !== undefined || order.status === 'paid' ? `，需退款 ${formatMoney(orderTotal(order), ctx.currency)}` : '';
      const text = `订单取消（状态由 ${statusText(order.status, 'zh')} 改为 ${statusText('cancelled', 'zh')}），原因：${change.reason}${refund}`;
      return { order: withNote(order, ctx, text, { status: 'cancelled' }), changed: true, stock };
    }
    case 'afterSale':
      return requestAfterSale(order, change, ctx);
    case 'note': {
      const last = order.notes.at(-1);
      if (last !== undefined && last.text === change.text && last.by === ctx.by) return unchanged(order);
      return { order: withNote(order, ctx, change.text, {}), changed: true, stock: [] };
    }
  }
}

function changeVariants(order: Order, lines: { lineIndex: number; newSku: string }[], ctx: OrderChangeContext): OrderChangeResult {
  requireEditable(order);
  const seen = new Set<number>();
  const items: OrderItem[] = order.items.map((i) => ({ ...i }));
  const moves: StockMove[] = [];
  const described: string[] = [];
  for (const { lineIndex, newSku } of lines) {
    const item = items[lineIndex];
    if (item === undefined) throw new ShopError('invalid', 'no_such_line', { orderId: order.id, lineIndex });
    if (seen.has(lineIndex)) throw new ShopError('invalid', 'bad_change', { lineIndex, issues: [{ path: 'lines', message: `line ${lineIndex} is given twice` }] });
    seen.add(lineIndex);
    if (item.sku === newSku) continue;
    const old = lookup(ctx, item.sku);
    const next = lookup(ctx, newSku);
    if (next.product.id !== old.product.id) throw new ShopError('not_allowed', 'not_same_product', { sku: newSku, lineIndex });
    described.push(`第${lineIndex + 1}行 ${old.product.name} 由 ${describeVariant(old.variant) || item.sku} 改为 ${describeVariant(next.variant) || newSku}`);
    moves.push({ sku: item.sku, delta: item.qty }, { sku: newSku, delta: -item.qty });
    items[lineIndex] = { sku: newSku, qty: item.qty, price: order.status === 'pending_payment' ? effectivePrice(next.product, next.variant) : item.price };
  }
  if (described.length === 0) return unchanged(order);
  const stock = settleStock(ctx, moves);
  return { order: withNote(order, ctx, `规格变更：${described.join('；')}`, { items }), changed: true, stock };
}

function changeQuantity(order: Order, sku: string, qty: number, ctx: OrderChangeContext): OrderChangeResult {
  requireEditable(order);
  const current = order.items.filter((i) => i.sku === sku).reduce((sum, i) => sum + i.qty, 0);
  if (current === 0) throw new ShopError('invalid', 'sku_not_in_order', { orderId: order.id, sku });
  if (qty === current) return unchanged(order);
  if (qty === 0 && order.items.every((i) => i.sku === sku)) throw new ShopError('invalid', 'order_would_be_empty', { orderId: order.id, sku });

  const items: OrderItem[] = order.items.map((i) => ({ ...i }));
  if (qty > current) {
    // More pieces go on the last line of that sku, at its price: per-piece prices of other lines stay as paid.
    const lastIndex = items.map((i) => i.sku).lastIndexOf(sku);
    const last = items[lastIndex];
    if (last !== undefined) last.qty += qty - current;
  } else {
    // Fewer pieces come off the last lines first, dropping lines that reach zero.
    let toRemove = current - qty;
    for (let i = items.length - 1; i >= 0 && toRemove > 0; i--) {
      const item = items[i];
      if (item === undefined || item.sku !== sku) continue;
      const take = Math.min(item.qty, toRemove);
      item.qty -= take;
      toRemove -= take;
    }
  }
  const kept = items.filter((i) => i.qty > 0);
  const stock = settleStock(ctx, [{ sku, delta: current - qty }]);
  const before = formatMoney(orderTotal(order), ctx.currency);
  const after = formatMoney(orderTotal({ items: kept }), ctx.currency);
  const text = `${itemName(ctx, sku)} 数量由 ${current} 改为 ${qty}，订单金额由 ${before} 改为 ${after}`;
  return { order: withNote(order, ctx, text, { items: kept }), changed: true, stock };
}

function sameRequest(entry: AfterSale, change: Extract<OrderChange, { type: 'afterSale' }>): boolean {
  if (entry.kind !== change.kind || entry.reason !== change.reason || entry.items.length !== change.items.length) return false;
  return entry.items.every((item, i) => {
    const other = change.items[i];
    return other !== undefined && other.sku === item.sku && (change.kind === 'return' || other.newSku === item.newSku);
  });
}

function requestAfterSale(order: Order, change: Extract<OrderChange, { type: 'afterSale' }>, ctx: OrderChangeContext): OrderChangeResult {
  const details = { orderId: order.id, status: order.status };
  if (order.status === 'return_requested' || order.status === 'exchange_requested') {
    const open = order.afterSale?.at(-1);
    if (open !== undefined && open.status === 'requested' && sameRequest(open, change)) return unchanged(order);
    throw new ShopError('not_allowed', 'request_open', details);
  }
  if (order.status === 'pending_payment' || order.status === 'paid' || order.status === 'shipped') {
    throw new ShopError('not_allowed', 'not_delivered', details);
  }
  if (order.status !== 'delivered') throw new ShopError('not_allowed', 'order_closed', details);

  const endsAt = returnWindowEndsAt(order, ctx.returnWindowDays);
  if (endsAt === null) throw new ShopError('invalid', 'bad_change', { ...details, issues: [{ path: 'deliveredAt', message: 'the order has no delivery time' }] });
  if (ctx.now.getTime() > endsAt.getTime()) {
    throw new ShopError('not_allowed', 'return_window_passed', {
      ...details,
      deliveredAt: order.deliveredAt,
      windowDays: ctx.returnWindowDays,
      windowEndsAt: endsAt.toISOString(),
    });
  }

  const seen = new Set<string>();
  const moves: StockMove[] = [];
  const described: string[] = [];
  const items: AfterSale['items'] = [];
  for (const item of change.items) {
    if (seen.has(item.sku)) throw new ShopError('invalid', 'duplicate_sku', { sku: item.sku });
    seen.add(item.sku);
    const qty = order.items.filter((i) => i.sku === item.sku).reduce((sum, i) => sum + i.qty, 0);
    if (qty === 0) throw new ShopError('invalid', 'sku_not_in_order', { orderId: order.id, sku: item.sku });
    if (change.kind === 'return') {
      // A return has no new variant; one sent by mistake is dropped rather than stored.
      items.push({ sku: item.sku });
      described.push(`${itemName(ctx, item.sku)}×${qty}`);
      continue;
    }
    if (item.newSku === undefined) throw new ShopError('invalid', 'new_sku_required', { sku: item.sku });
    const old = lookup(ctx, item.sku);
    const next = lookup(ctx, item.newSku);
    if (next.product.id !== old.product.id) throw new ShopError('not_allowed', 'not_same_product', { sku: item.newSku });
    // The replacement is reserved now, so the promise made to the customer holds when the parcel comes back.
    moves.push({ sku: item.newSku, delta: -qty });
    items.push({ sku: item.sku, newSku: item.newSku });
    described.push(`${itemName(ctx, item.sku)}×${qty} 换为 ${describeVariant(next.variant) || item.newSku}`);
  }
  const stock = settleStock(ctx, moves);
  const status: OrderStatus = change.kind === 'return' ? 'return_requested' : 'exchange_requested';
  const entry: AfterSale = { kind: change.kind, items, reason: change.reason, at: ctx.now.toISOString(), status: 'requested' };
  const text = `申请${change.kind === 'return' ? '退货' : '换货'}（状态由 ${statusText(order.status, 'zh')} 改为 ${statusText(status, 'zh')}）：${described.join('；')}，原因：${change.reason}`;
  return {
    order: withNote(order, ctx, text, { status, afterSale: [...(order.afterSale ?? []), entry] }),
    changed: true,
    stock,
  };
}
