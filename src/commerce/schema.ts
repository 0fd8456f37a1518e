/** The shop data file (DESIGN.md "Shop data (SHOP_DATA)") as zod schemas, with cross-reference checks. */
import { z } from 'zod';

/** A point in time, ISO 8601 with `Z` or an offset (a time without one would depend on the server's zone). */
export const IsoTime = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time with Z or an offset, e.g. 2026-11-01T10:00:00+08:00' });
export type IsoTime = z.infer<typeof IsoTime>;

/** A phone number as customers write it: digits, an optional leading +, spaces or dashes. */
export const PhoneNumber = z.string().trim().regex(/^\+?\d[\d -]{4,19}$/, 'expected a phone number (digits, optional +, spaces or dashes)');

/** An amount of money in the shop's currency, in main units (yuan), e.g. 79.9. */
export const Money = z.number().nonnegative().finite();

/** `[min, max]`, both included; used for the height and weight ranges of a size chart. */
const Range = z
  .tuple([z.number().nonnegative(), z.number().nonnegative()])
  .refine(([min, max]) => min <= max, 'range must be [min, max] with min <= max');

/**
 * One purchasable version of a product. Option names and values are free text: a clothing shop has
 * `color` and `size`, a keyboard shop `switch` and `backlight`; the bot speaks of whatever is here.
 */
export const Variant = z.object({
  sku: z.string().min(1),
  options: z.record(z.string().min(1), z.string().min(1)),
  stock: z.number().int().nonnegative(),
  /** Only when this variant costs other than the product's price. */
  price: Money.optional(),
});
export type Variant = z.infer<typeof Variant>;

/** Which size fits a body: both ranges inclusive. */
export const SizeChartRow = z.object({
  size: z.string().min(1),
  heightCm: Range,
  weightKg: Range,
});
export type SizeChartRow = z.infer<typeof SizeChartRow>;

/** A product of the catalog with its variants and, for clothes, a size chart. */
export const Product = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  nameEn: z.string().min(1).optional(),
  category: z.string().min(1),
  fabric: z.string().min(1).optional(),
  description: z.string().optional(),
  price: Money,
  variants: z.array(Variant).min(1, 'a product needs at least one variant'),
  sizeChart: z.array(SizeChartRow).optional(),
});
export type Product = z.infer<typeof Product>;

/** A shop customer; wechatId / telegramId bind a channel identity to them (DESIGN.md, owning an order). */
export const Customer = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  phone: PhoneNumber,
  wechatId: z.string().min(1).optional(),
  telegramId: z.string().min(1).optional(),
  /** Known gender, for the greeting with 先生/女士 the handbooks ask for; unknown means neither. */
  gender: z.enum(['male', 'female']).optional(),
});
export type Customer = z.infer<typeof Customer>;

/** The nine order statuses of DESIGN.md; `paid` means awaiting shipment. */
export const OrderStatus = z.enum([
  'pending_payment',
  'paid',
  'shipped',
  'delivered',
  'cancelled',
  'return_requested',
  'returned',
  'refunded',
  'exchange_requested',
]);
export type OrderStatus = z.infer<typeof OrderStatus>;

/** One order line; the same sku may appear on several lines (one per piece, or split by the shop). */
export const OrderItem = z.object({
  sku: z.string().min(1),
  qty: z.number().int().positive(),
  /** Unit price paid for this line. */
  price: Money,
});
export type OrderItem = z.infer<typeof OrderItem>;

/** Where an order goes; a Chinese address is province / city / district / street detail. */
export const Address = z.object({
  name: z.string().trim().min(1),
  phone: PhoneNumber,
  province: z.string().trim().min(1),
  city: z.string().trim().min(1),
  district: z.string().trim().min(1),
  detail: z.string().trim().min(1),
});
export type Address = z.infer<typeof Address>;

/** One tracking event of the carrier. */
export const ShipmentEvent = z.object({ at: IsoTime, text: z.string().min(1) });
export type ShipmentEvent = z.infer<typeof ShipmentEvent>;

/** The parcel of a shipped order: carrier (顺丰速运, 中通快递 …), tracking number and events. */
export const Shipment = z.object({
  carrier: z.string().min(1),
  trackingNo: z.string().min(1),
  /** Oldest first. */
  events: z.array(ShipmentEvent),
});
export type Shipment = z.infer<typeof Shipment>;

/** A line of the order's history; every change the bot or an agent makes adds one (the handbooks ask for it). */
export const OrderNote = z.object({
  at: IsoTime,
  /** Who: `bot`, an agent's username, `system`, `customer`. */
  by: z.string().min(1),
  text: z.string().min(1),
});
export type OrderNote = z.infer<typeof OrderNote>;

/** A return (money back) or an exchange (another variant of the same product). */
export const AfterSaleKind = z.enum(['return', 'exchange']);
export type AfterSaleKind = z.infer<typeof AfterSaleKind>;

/** Where a return or exchange request stands; a new request is `requested`. */
export const AfterSaleStatus = z.enum(['requested', 'approved', 'rejected', 'completed']);
export type AfterSaleStatus = z.infer<typeof AfterSaleStatus>;

/** A return or exchange request: which lines (by sku) it covers and, for an exchange, the new variant of each. */
export const AfterSale = z.object({
  kind: AfterSaleKind,
  items: z.array(z.object({ sku: z.string().min(1), newSku: z.string().min(1).optional() })).min(1),
  /** The customer's reason, recorded and counted for reports. */
  reason: z.string().min(1),
  at: IsoTime,
  status: AfterSaleStatus,
});
export type AfterSale = z.infer<typeof AfterSale>;

/** An order with its lines, address, shipment, history notes and after-sale requests. */
export const Order = z.object({
  id: z.string().min(1),
  customerId: z.string().min(1),
  status: OrderStatus,
  createdAt: IsoTime,
  paidAt: IsoTime.optional(),
  shippedAt: IsoTime.optional(),
  /** The return window counts from here. */
  deliveredAt: IsoTime.optional(),
  items: z.array(OrderItem).min(1, 'an order needs at least one item'),
  address: Address,
  /** The customer's wish for delivery (time, place), e.g. "工作日白天送货". */
  deliveryRequest: z.string().min(1).optional(),
  shipment: Shipment.optional(),
  /** Oldest first; missing in a file means none yet. */
  notes: z.array(OrderNote).default([]),
  afterSale: z.array(AfterSale).optional(),
});
export type Order = z.infer<typeof Order>;

/** A promotion the bot may mention while it is valid. */
export const Promotion = z
  .object({
    id: z.string().min(1),
    title: z.string().min(1),
    description: z.string(),
    validFrom: IsoTime,
    validTo: IsoTime,
  })
  .refine((p) => Date.parse(p.validFrom) <= Date.parse(p.validTo), { message: 'validFrom is after validTo', path: ['validTo'] });
export type Promotion = z.infer<typeof Promotion>;

/** The whole shop data file. Cross-references are checked so a typo fails at start, not in a customer's chat. */
export const ShopData = z
  .object({
    /** ISO 4217, e.g. CNY. */
    currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 currency code, e.g. CNY'),
    products: z.array(Product),
    customers: z.array(Customer),
    orders: z.array(Order),
    promotions: z.array(Promotion).default([]),
  })
  .superRefine((data, ctx) => {
    const issue = (path: (string | number)[], message: string): void => {
      ctx.addIssue({ code: 'custom', path, message });
    };
    /** Reports every later occurrence of a value already seen, at its own path. */
    const unique = <T>(rows: readonly T[], key: (row: T) => string | undefined, path: (i: number) => (string | number)[], what: string): void => {
      const first = new Map<string, number>();
      rows.forEach((row, i) => {
        const value = key(row);
        if (value === undefined) return;
        const seen = first.get(value);
        if (seen === undefined) first.set(value, i);
        else issue(path(i), `duplicate ${what} "${value}" (first used at index ${seen})`);
      });
    };

    unique(data.products, (p) => p.id, (i) => ['products', i, 'id'], 'product id');
    const variants = data.products.flatMap((p, pi) => p.variants.map((v, vi) => ({ product: p, v, pi, vi })));
    const seenSku = new Map<string, string>();
    for (const { product, v, pi, vi } of variants) {
      const owner = seenSku.get(v.sku);
      if (owner !== undefined) issue(['products', pi, 'variants', vi, 'sku'], `duplicate sku "${v.sku}" (already a variant of product ${owner})`);
      else seenSku.set(v.sku, product.id);
    }
    unique(data.customers, (c) => c.id, (i) => ['customers', i, 'id'], 'customer id');
    // A channel identity must point at one customer, or "your orders" would be someone else's.
    unique(data.customers, (c) => c.wechatId, (i) => ['customers', i, 'wechatId'], 'wechatId');
    unique(data.customers, (c) => c.telegramId, (i) => ['customers', i, 'telegramId'], 'telegramId');
    unique(data.orders, (o) => o.id, (i) => ['orders', i, 'id'], 'order id');
    unique(data.promotions, (p) => p.id, (i) => ['promotions', i, 'id'], 'promotion id');

    const customerIds = new Set(data.customers.map((c) => c.id));
    data.orders.forEach((order, oi) => {
      if (!customerIds.has(order.customerId)) issue(['orders', oi, 'customerId'], `no customer has id "${order.customerId}"`);
      order.items.forEach((item, ii) => {
        if (!seenSku.has(item.sku)) issue(['orders', oi, 'items', ii, 'sku'], `no product has sku "${item.sku}"`);
      });
      // The return window counts from deliveredAt; without it the rule cannot be applied.
      if (order.status === 'delivered' && order.deliveredAt === undefined) {
        issue(['orders', oi, 'deliveredAt'], 'a delivered order needs deliveredAt');
      }
      const orderSkus = new Set(order.items.map((i) => i.sku));
      order.afterSale?.forEach((entry, ai) => {
        entry.items.forEach((item, ii) => {
          const at = ['orders', oi, 'afterSale', ai, 'items', ii];
          if (!orderSkus.has(item.sku)) issue([...at, 'sku'], `sku "${item.sku}" is not on this order`);
          if (item.newSku === undefined) {
            if (entry.kind === 'exchange') issue([...at, 'newSku'], 'an exchange needs the new sku of each item');
            return;
          }
          const newOwner = seenSku.get(item.newSku);
          if (newOwner === undefined) issue([...at, 'newSku'], `no product has sku "${item.newSku}"`);
          else if (newOwner !== seenSku.get(item.sku)) issue([...at, 'newSku'], `"${item.newSku}" is not a variant of the same product as "${item.sku}"`);
        });
      });
    });
  });
export type ShopData = z.infer<typeof ShopData>;

const Sku = z.string().trim().min(1);

/**
 * A change a customer (through the bot) or an agent asks for on an order, tagged by `type`.
 * `lineIndex` counts order lines from 0. `quantity` sets the total pieces of a sku already on the
 * order (0 removes it). Rules live in shop.ts (`applyOrderChange`).
 */
export const OrderChange = z.discriminatedUnion('type', [
  z.object({ type: z.literal('address'), address: Address }),
  z.object({ type: z.literal('phone'), phone: PhoneNumber }),
  z.object({ type: z.literal('deliveryRequest'), text: z.string().trim().min(1).max(500) }),
  z.object({
    type: z.literal('variant'),
    lines: z.array(z.object({ lineIndex: z.number().int().nonnegative(), newSku: Sku })).min(1),
  }),
  z.object({ type: z.literal('quantity'), sku: Sku, qty: z.number().int().nonnegative().max(999) }),
  z.object({ type: z.literal('cancel'), reason: z.string().trim().min(1, 'a cancellation needs a reason (it is counted)') }),
  z.object({
    type: z.literal('afterSale'),
    kind: AfterSaleKind,
    items: z.array(z.object({ sku: Sku, newSku: Sku.optional() })).min(1),
    reason: z.string().trim().min(1, 'a return or exchange needs a reason (it is counted)'),
  }),
  z.object({ type: z.literal('note'), text: z.string().trim().min(1).max(2000) }),
]);
export type OrderChange = z.infer<typeof OrderChange>;

/** One problem of a data file: where (a JSON path like `orders[3].items[0].sku`) and why. */
export interface ShopDataIssue {
  path: string;
  message: string;
}

/** The shop data file is not valid; the message names the file, each path and the reason. */
export class ShopDataError extends Error {
  constructor(
    readonly source: string,
    readonly issues: readonly ShopDataIssue[],
  ) {
    const shown = issues.slice(0, 10).map((i) => `  ${i.path}: ${i.message}`);
    if (issues.length > shown.length) shown.push(`  … and ${issues.length - shown.length} more`);
    super(`${source}: invalid shop data\n${shown.join('\n')}`);
    this.name = 'ShopDataError';
  }
}

/** `['orders', 3, 'items', 0, 'sku']` → `orders[3].items[0].sku`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * Checks a parsed JSON value against the shop data schema.
 * @param source the file (or URL) it came from, named in the error.
 * @throws ShopDataError naming the source, the JSON path and the reason of each problem.
 */
export function parseShopData(json: unknown, source: string): ShopData {
  const result = ShopData.safeParse(json);
  if (result.success) return result.data;
  throw new ShopDataError(
    source,
    result.error.issues.map((i) => ({ path: formatJsonPath(i.path), message: i.message })),
  );
}
