/**
 * The `Shop` over a real shop backend's REST API (SHOP_BACKEND_URL), as documented in
 * docs/shop-api.openapi.yaml: every call time-limited, every answer checked against the shop data
 * schema, and a backend that is slow, down or answers nonsense becomes `ShopError('unavailable')`,
 * which the bot turns into the handbooks' "system busy" answer and a follow-up ticket.
 */
import { z } from 'zod';
import { Customer, Order, Product, Promotion, Variant, formatJsonPath } from './schema.ts';
import type { OrderChange } from './schema.ts';
import { ShopError, type Shop, type ShopErrorCode, type ShopErrorDetails, type ShopErrorReason } from './shop.ts';

/** Options of {@link createHttpShop}. */
export interface HttpShopOptions {
  /** The API's base URL, e.g. `https://shop.internal/api/v1` (no trailing slash needed). */
  baseUrl: string;
  /** ISO 4217 code of the backend's prices; CNY by default. */
  currency?: string;
  /** Time limit of one call in ms (default 2500): well inside the flow runtime's limit for an action. */
  timeoutMs?: number;
  /** Sent as `Authorization: Bearer …` when set. */
  token?: string;
  /** The fetch to use (tests); the global one by default. */
  fetch?: typeof fetch;
}

const ProductList = z.object({ products: z.array(Product) });
const OrderList = z.object({ orders: z.array(Order) });
const CustomerList = z.object({ customers: z.array(Customer) });
const PromotionList = z.object({ promotions: z.array(Promotion) });
const VariantAnswer = z.object({ product: Product, variant: Variant });
const Health = z.object({ ok: z.boolean() });

const ERROR_CODES = ['not_found', 'not_allowed', 'out_of_stock', 'invalid', 'unavailable'] as const;
const ERROR_REASONS: readonly ShopErrorReason[] = [
  'no_such_order', 'no_such_sku', 'already_shipped', 'already_delivered', 'order_closed', 'not_same_product', 'not_delivered',
  'return_window_passed', 'request_open', 'out_of_stock', 'bad_change', 'no_such_line', 'sku_not_in_order', 'order_would_be_empty',
  'new_sku_required', 'duplicate_sku', 'shop_unavailable', 'timeout',
];

/** The backend's refusal body: `{error: {code, reason, message?, details?}}` (docs/shop-api.openapi.yaml, ShopError). */
const ErrorBody = z.object({
  error: z.object({
    code: z.enum(ERROR_CODES),
    reason: z.string(),
    message: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** A response that does not fit the contract is a broken backend: to the customer, the same as one that is down. */
function broken(path: string, why: string): ShopError {
  return new ShopError('unavailable', 'shop_unavailable', {}, `shop backend ${path}: ${why}`);
}

/** Creates the HTTP `Shop`. Nothing is called until a method is. */
export function createHttpShop(opts: HttpShopOptions): Shop {
  const base = opts.baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 2500;
  const doFetch = opts.fetch ?? fetch;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;

  /** One call: time-limited; a timeout, network failure or 5xx is `unavailable`. Returns the status and the JSON body. */
  async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new ShopError('unavailable', timedOut ? 'timeout' : 'shop_unavailable', {}, `shop backend ${method} ${path}: ${timedOut ? `no answer within ${timeoutMs} ms` : String(error)}`);
    }
    if (res.status >= 500) throw new ShopError('unavailable', 'shop_unavailable', {}, `shop backend ${method} ${path}: HTTP ${res.status}`);
    let json: unknown = null;
    try {
      const text = await res.text();
      json = text ? JSON.parse(text) : null;
    } catch (error) {
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) throw new ShopError('unavailable', 'timeout', {}, `shop backend ${method} ${path}: body not read within ${timeoutMs} ms`);
      throw broken(`${method} ${path}`, 'the body is not JSON');
    }
    return { status: res.status, json };
  }

  /** A GET of one resource: its value, null for 404, the backend's refusal otherwise. */
  async function getOne<T>(path: string, schema: z.ZodType<T>): Promise<T | null> {
    const { status, json } = await call('GET', path);
    if (status === 404) return null;
    return accept(`GET ${path}`, status, json, schema);
  }

  /** A 2xx body checked against the contract, or the refusal it carries. */
  function accept<T>(what: string, status: number, json: unknown, schema: z.ZodType<T>): T {
    if (status < 200 || status >= 300) throw refusal(what, status, json);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw broken(what, `the answer does not fit the contract (${first ? `${formatJsonPath(first.path)}: ${first.message}` : 'invalid'})`);
    }
    return parsed.data;
  }

  /** A 4xx as the ShopError the backend named (its rule refusals keep their reason and details). */
  function refusal(what: string, status: number, json: unknown): ShopError {
    const parsed = ErrorBody.safeParse(json);
    if (!parsed.success) return broken(what, `HTTP ${status} without an error body`);
    const { code, reason, message, details } = parsed.data.error;
    const known = (ERROR_REASONS as readonly string[]).includes(reason) ? (reason as ShopErrorReason) : fallbackReason(code);
    return new ShopError(code as ShopErrorCode, known, (details ?? {}) as ShopErrorDetails, message);
  }

  const q = encodeURIComponent;
  return {
    currency: opts.currency ?? 'CNY',
    async ping() {
      try {
        const { status, json } = await call('GET', '/health');
        return status === 200 && Health.safeParse(json).success && (json as { ok: boolean }).ok;
      } catch {
        return false;
      }
    },
    async products() {
      const { status, json } = await call('GET', '/products');
      return accept('GET /products', status, json, ProductList).products;
    },
    product: (id) => getOne(`/products/${q(id)}`, Product),
    variant: (sku) => getOne(`/variants/${q(sku)}`, VariantAnswer),
    customer: (id) => getOne(`/customers/${q(id)}`, Customer),
    async customerByChannel(channel, userId) {
      const key = channel === 'wechat' ? 'wechatId' : 'telegramId';
      const { status, json } = await call('GET', `/customers?${key}=${q(userId)}`);
      return accept('GET /customers', status, json, CustomerList).customers[0] ?? null;
    },
    order: (id) => getOne(`/orders/${q(id)}`, Order),
    async ordersOf(customerId) {
      const { status, json } = await call('GET', `/customers/${q(customerId)}/orders`);
      if (status === 404) return [];
      return accept('GET /customers/{id}/orders', status, json, OrderList).orders;
    },
    async promotions(at) {
      const { status, json } = await call('GET', `/promotions?at=${q(at.toISOString())}`);
      return accept('GET /promotions', status, json, PromotionList).promotions;
    },
    async changeOrder(orderId: string, change: OrderChange, by: string) {
      // Not retried: the backend applies a repeat of the same change as nothing, but a second
      // attempt after a timeout could land after a newer change of the customer's.
      const { status, json } = await call('POST', `/orders/${q(orderId)}/changes`, { change, by });
      return accept(`POST /orders/${orderId}/changes`, status, json, Order);
    },
  };
}

/** A reason for a backend that named its code but a reason this version does not know. */
function fallbackReason(code: (typeof ERROR_CODES)[number]): ShopErrorReason {
  switch (code) {
    case 'not_found': return 'no_such_order';
    case 'out_of_stock': return 'out_of_stock';
    case 'unavailable': return 'shop_unavailable';
    case 'invalid': return 'bad_change';
    case 'not_allowed': return 'order_closed';
  }
}
