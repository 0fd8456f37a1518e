/** The built-in shop: the SHOP_DATA file held in memory, for the zero-setup demo and for tests. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { OrderChange as OrderChangeSchema, ShopDataError, formatJsonPath, parseShopData } from './schema.ts';
import type { Customer, Order, OrderChange, Product, ShopData, Variant } from './schema.ts';
import { DEFAULT_RETURN_WINDOW_DAYS, ShopError, applyOrderChange } from './shop.ts';
import type { Clock, Shop } from './shop.ts';
import { deepFreeze } from '../shared/freeze.ts';

/** The shipped demo data (data/demo-shop.json), the default of SHOP_DATA. */
export const DEMO_SHOP_PATH = fileURLToPath(new URL('../../data/demo-shop.json', import.meta.url));

/**
 * The "now" the shipped demo data was written for (tools/make-demo-shop.ts): "delivered 2 days ago"
 * is 2 days before this. Tests run the demo shop with this clock; a live demo may `rebaseShopData`.
 */
export const DEMO_BASE_TIME = '2026-11-01T00:00:00+08:00';

/** Options of the demo shop. */
export interface DemoShopOptions {
  /** The clock for notes and the return window; the real time by default. */
  now?: Clock;
  /** Days after delivery a return or exchange may be asked for; 7 by default. */
  returnWindowDays?: number;
}

/**
 * Reads, parses and checks a shop data file.
 * @throws ShopDataError naming the file, and the JSON path and reason of each problem.
 */
export async function loadShopData(path: string): Promise<ShopData> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ShopDataError(path, [{ path: '(file)', message: err instanceof Error ? err.message : String(err) }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ShopDataError(path, [{ path: '(root)', message: `not valid JSON: ${err instanceof Error ? err.message : String(err)}` }]);
  }
  return parseShopData(json, path);
}

/**
 * Runs `fn` after every earlier call with the same key has settled, so changes to one order are
 * applied one at a time and in the order they were asked (grammY's "handle updates sequentially").
 */
function keyedQueue(): <T>(key: string, fn: () => T) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, fn: () => T): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}

/**
 * An in-memory `Shop` over a copy of `data`: changes live as long as the process. Reads and results
 * are deep copies (the catalog a frozen one), so callers can't change the shop by accident.
 */
export function createDemoShop(data: ShopData, opts: DemoShopOptions = {}): Shop {
  const now = opts.now ?? (() => new Date());
  const returnWindowDays = opts.returnWindowDays ?? DEFAULT_RETURN_WINDOW_DAYS;
  if (!Number.isInteger(returnWindowDays) || returnWindowDays < 0) {
    throw new RangeError(`returnWindowDays must be a whole number of days >= 0, got ${returnWindowDays}`);
  }
  const shop = structuredClone(data);

  const skus = new Map<string, { product: Product; variant: Variant }>();
  for (const product of shop.products) for (const variant of product.variants) skus.set(variant.sku, { product, variant });
  const customers = new Map<string, Customer>(shop.customers.map((c) => [c.id, c]));
  const byChannel = {
    wechat: new Map<string, Customer>(),
    telegram: new Map<string, Customer>(),
  };
  for (const c of shop.customers) {
    if (c.wechatId !== undefined) byChannel.wechat.set(c.wechatId, c);
    if (c.telegramId !== undefined) byChannel.telegram.set(c.telegramId, c);
  }
  const orders = new Map<string, Order>(shop.orders.map((o) => [o.id, o]));
  const serially = keyedQueue();

  const copy = <T>(value: T): T => structuredClone(value);
  /**
   * The catalog as callers see it (products, a product, a variant with its product): one frozen
   * copy until stock changes, not a copy per call (the catalog is most of the demo data, every
   * product question reads all of it and every order line its product).
   */
  let catalog: { products: Product[]; byId: Map<string, Product>; bySku: Map<string, { product: Product; variant: Variant }> } | null = null;
  const frozenCatalog = (): NonNullable<typeof catalog> => {
    if (catalog) return catalog;
    const frozen = deepFreeze(copy(shop.products));
    const bySku = new Map<string, { product: Product; variant: Variant }>();
    for (const product of frozen) for (const variant of product.variants) bySku.set(variant.sku, Object.freeze({ product, variant }));
    return (catalog = { products: frozen, byId: new Map(frozen.map((p) => [p.id, p])), bySku });
  };

  /**
   * Orders and customers as callers see them: one frozen copy of each stored order (a change
   * stores a new order object, applyOrderChange being pure) and of each customer (never changed),
   * not a deep copy per call (every order question and every turn with an order read them).
   */
  const frozen = new WeakMap<object, object>();
  const frozenCopy = <T extends object>(value: T | undefined): T | null => {
    if (value === undefined) return null;
    let f = frozen.get(value) as T | undefined;
    if (!f) frozen.set(value, (f = deepFreeze(copy(value))));
    return f;
  };

  /**
   * Checks the rules and stores the result. Synchronous on purpose: no other change can run between
   * reading the stock and writing it, so two orders can't both take the last piece.
   */
  const apply = (orderId: string, change: OrderChange, by: string): Order => {
    const order = orders.get(orderId);
    if (order === undefined) throw new ShopError('not_found', 'no_such_order', { orderId });
    const result = applyOrderChange(order, change, {
      variant: (sku) => skus.get(sku) ?? null,
      now: now(),
      by,
      returnWindowDays,
      currency: shop.currency,
    });
    if (result.changed) {
      for (const move of result.stock) {
        const entry = skus.get(move.sku);
        if (entry !== undefined) entry.variant.stock += move.delta;
      }
      if (result.stock.length > 0) catalog = null;
      orders.set(orderId, result.order);
    }
    return frozenCopy(result.order)!;
  };

  return {
    currency: shop.currency,
    ping: () => Promise.resolve(true),
    products: () => Promise.resolve(frozenCatalog().products),
    product: (id) => Promise.resolve(frozenCatalog().byId.get(id) ?? null),
    variant: (sku) => Promise.resolve(frozenCatalog().bySku.get(sku) ?? null),
    customer: (id) => Promise.resolve(frozenCopy(customers.get(id))),
    customerByChannel: (channel, userId) => Promise.resolve(frozenCopy(byChannel[channel].get(userId))),
    order: (id) => Promise.resolve(frozenCopy(orders.get(id))),
    ordersOf: (customerId) =>
      Promise.resolve(
        [...orders.values()]
          .filter((o) => o.customerId === customerId)
          .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.id.localeCompare(a.id))
          .map((o) => frozenCopy(o)!),
      ),
    promotions: (at) =>
      Promise.resolve(copy(shop.promotions.filter((p) => Date.parse(p.validFrom) <= at.getTime() && at.getTime() <= Date.parse(p.validTo)))),
    changeOrder: async (orderId, change, by) => {
      // Callers pass data from a chat or an HTTP body: check it here, not only at compile time.
      const parsed = OrderChangeSchema.safeParse(change);
      if (!parsed.success) {
        throw new ShopError('invalid', 'bad_change', {
          orderId,
          issues: parsed.error.issues.map((i) => ({ path: formatJsonPath(i.path), message: i.message })),
        });
      }
      return serially(orderId, () => apply(orderId, parsed.data, by));
    },
  };
}

const ISO_OFFSET = /(Z|[+-]\d{2}:\d{2})$/;

/** Moves an ISO time by `ms`, keeping its offset (so +08:00 data stays readable in +08:00). */
function shiftIso(iso: string, ms: number): string {
  const suffix = ISO_OFFSET.exec(iso)?.[1] ?? 'Z';
  const offsetMin = suffix === 'Z' ? 0 : (suffix.startsWith('-') ? -1 : 1) * (Number(suffix.slice(1, 3)) * 60 + Number(suffix.slice(4, 6)));
  const local = new Date(Date.parse(iso) + ms + offsetMin * 60_000).toISOString().slice(0, 19);
  return `${local}${suffix}`;
}

/**
 * The same data with every time moved by `to - from`, so relative facts hold at another "now": the
 * live demo runs `rebaseShopData(data, new Date(DEMO_BASE_TIME), new Date())` and an order
 * delivered "2 days ago" is still within the return window.
 */
export function rebaseShopData(data: ShopData, from: Date, to: Date): ShopData {
  const ms = to.getTime() - from.getTime();
  const s = (iso: string): string => shiftIso(iso, ms);
  const o = (iso: string | undefined): string | undefined => (iso === undefined ? undefined : s(iso));
  const moved = structuredClone(data);
  for (const order of moved.orders) {
    order.createdAt = s(order.createdAt);
    // Only set fields are rewritten: an explicit undefined would still be a key in the JSON object.
    if (order.paidAt !== undefined) order.paidAt = o(order.paidAt);
    if (order.shippedAt !== undefined) order.shippedAt = o(order.shippedAt);
    if (order.deliveredAt !== undefined) order.deliveredAt = o(order.deliveredAt);
    for (const event of order.shipment?.events ?? []) event.at = s(event.at);
    for (const note of order.notes) note.at = s(note.at);
    for (const entry of order.afterSale ?? []) entry.at = s(entry.at);
  }
  for (const promo of moved.promotions) {
    promo.validFrom = s(promo.validFrom);
    promo.validTo = s(promo.validTo);
  }
  return moved;
}
