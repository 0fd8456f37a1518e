/** The `Shop` contract (STYLE.md §8), run against the demo shop and against the HTTP shop adapter talking to a local backend. */
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_BASE_TIME, DEMO_SHOP_PATH, createDemoShop, loadShopData, rebaseShopData } from '../src/commerce/demo-shop.ts';
import { OrderStatus, ShopDataError, parseShopData } from '../src/commerce/schema.ts';
import type { ShopData } from '../src/commerce/schema.ts';
import { ShopError, describeVariant, ownsOrder, orderTotal, shopErrorText, statusText } from '../src/commerce/shop.ts';
import type { Order, OrderChange, Shop, ShopErrorCode, ShopErrorReason } from '../src/commerce/shop.ts';
import { buildDemoShop, demoShopJson } from '../tools/make-demo-shop.ts';
import { createHttpShop } from '../src/commerce/http-shop.ts';
import { startShopServer, type ShopServer } from './support/shop-server.ts';

const NOW = new Date(DEMO_BASE_TIME);

/** Fixtures of tools/make-demo-shop.ts (listed at its top). */
const F = {
  zhang: 'C001',
  liu: 'C004',
  paid: 'E20261030001',
  shipped: 'E20261027001',
  deliveredRecently: 'E20261025001',
  deliveredLongAgo: 'E20261008001',
  pending: 'E20261031001',
  liuPaid: 'E20261029001',
  returnRequested: 'E20261020001',
  exchangeRequested: 'E20261018001',
} as const;

/** The order, which must exist. */
async function mustOrder(shop: Shop, id: string): Promise<Order> {
  const order = await shop.order(id);
  if (order === null) throw new Error(`fixture order ${id} is missing`);
  return order;
}

async function stockOf(shop: Shop, sku: string): Promise<number> {
  const found = await shop.variant(sku);
  if (found === null) throw new Error(`fixture sku ${sku} is missing`);
  return found.variant.stock;
}

/** Expects `promise` to fail with a ShopError of that code and reason. */
async function refused(promise: Promise<unknown>, code: ShopErrorCode, reason: ShopErrorReason): Promise<ShopError> {
  const error: unknown = await promise.then(
    () => new Error('expected a ShopError, but the change was applied'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ShopError);
  const shopError = error as ShopError;
  expect({ code: shopError.code, reason: shopError.reason }).toEqual({ code, reason });
  return shopError;
}

const NEW_ADDRESS = {
  name: '张伟',
  phone: '13812345678',
  province: '浙江省',
  city: '杭州市',
  district: '西湖区',
  detail: '文三路100号 锦绣家园2栋1单元301室',
};

/**
 * The contract every `Shop` meets. `makeShop` returns a fresh shop holding the shipped demo data
 * (data/demo-shop.json) whose clock reads DEMO_BASE_TIME and whose return window is 7 days.
 */
function shopContract(name: string, makeShop: () => Shop | Promise<Shop>): void {
  describe(`Shop contract: ${name}`, () => {
    let shop: Shop;
    beforeEach(async () => {
      shop = await makeShop();
    });

    describe('reading', () => {
      it('answers ping and prices in CNY', async () => {
        expect(await shop.ping()).toBe(true);
        expect(shop.currency).toBe('CNY');
      });

      it('lists products and finds one by id and by sku', async () => {
        const products = await shop.products();
        expect(products.length).toBeGreaterThanOrEqual(25);
        const tee = await shop.product('P001');
        expect(tee?.name).toBe('纯棉圆领T恤');
        expect(tee?.sizeChart?.map((r) => r.size)).toEqual(['S', 'M', 'L', 'XL', 'XXL']);
        const found = await shop.variant('P001-WHT-L');
        expect(found?.product.id).toBe('P001');
        expect(found?.variant.options).toEqual({ color: '白色', size: 'L' });
        expect(found?.variant.stock).toBeGreaterThan(0);
        expect(await shop.product('NOPE')).toBeNull();
        expect(await shop.variant('NOPE')).toBeNull();
      });

      it('finds customers by id and by channel identity, only on their own channel', async () => {
        expect((await shop.customer(F.zhang))?.name).toBe('张伟');
        expect((await shop.customerByChannel('wechat', 'wxid_zhangwei'))?.id).toBe(F.zhang);
        expect((await shop.customerByChannel('telegram', '5123456789'))?.name).toBe('李娜');
        expect(await shop.customerByChannel('telegram', 'wxid_zhangwei')).toBeNull();
        expect(await shop.customerByChannel('wechat', 'wxid_nobody')).toBeNull();
        expect(await shop.customer('C999')).toBeNull();
      });

      it("reads an order and lists a customer's orders newest first", async () => {
        const order = await mustOrder(shop, F.paid);
        expect(order.status).toBe('paid');
        expect(order.customerId).toBe(F.zhang);
        expect(await shop.order('E00000000000')).toBeNull();
        const mine = await shop.ordersOf(F.zhang);
        expect(mine.map((o) => o.id)).toEqual([F.pending, F.paid, F.shipped, F.deliveredRecently, F.deliveredLongAgo]);
        expect(await shop.ordersOf('C999')).toEqual([]);
      });

      it('gives promotions valid at the time asked', async () => {
        const now = (await shop.promotions(NOW)).map((p) => p.id);
        expect(now).toContain('PROMO-1111');
        expect(now).not.toContain('PROMO-AUTUMN');
        expect((await shop.promotions(new Date('2026-10-01T12:00:00+08:00'))).map((p) => p.id)).toContain('PROMO-AUTUMN');
        expect(await shop.promotions(new Date('2030-01-01T00:00:00Z'))).toEqual([]);
      });

      it('hands out copies or frozen results: changing a result changes nothing in the shop', async () => {
        // A frozen result refuses the change outright; a copy takes it without telling the shop.
        const tryTo = (change: () => void): void => {
          try {
            change();
          } catch (error) {
            expect(error).toBeInstanceOf(TypeError);
          }
        };
        const order = await mustOrder(shop, F.paid);
        const notes = order.notes.length;
        tryTo(() => { order.status = 'cancelled'; });
        tryTo(() => { order.notes.push({ at: NOW.toISOString(), by: 'x', text: 'x' }); });
        const product = await shop.product('P001');
        tryTo(() => { if (product?.variants[0]) product.variants[0].stock = 999; });
        const [listed] = await shop.ordersOf(order.customerId);
        const listedStatus = listed?.status;
        tryTo(() => { if (listed) listed.status = listedStatus === 'cancelled' ? 'paid' : 'cancelled'; });
        expect((await mustOrder(shop, F.paid)).status).toBe('paid');
        expect((await mustOrder(shop, F.paid)).notes).toHaveLength(notes);
        expect((await shop.ordersOf(order.customerId))[0]?.status).toBe(listedStatus);
        expect((await shop.product('P001'))?.variants[0]?.stock).not.toBe(999);
      });
    });

    describe('changing address, phone and delivery request', () => {
      it('changes the address of a paid order and records from what to what', async () => {
        const before = await mustOrder(shop, F.paid);
        const after = await shop.changeOrder(F.paid, { type: 'address', address: NEW_ADDRESS }, 'bot');
        expect(after.address).toEqual(NEW_ADDRESS);
        expect(after.notes).toHaveLength(before.notes.length + 1);
        const note = after.notes.at(-1);
        expect(note?.by).toBe('bot');
        expect(note?.text).toMatch(/^地址由「.*深圳市南山区科技园路88号.*」改为「.*杭州市西湖区文三路100号.*」$/);
        expect(Date.parse(note?.at ?? '')).toBe(NOW.getTime());
        expect(await mustOrder(shop, F.paid)).toEqual(after);
      });

      it('does nothing when the same address is asked again (no second note)', async () => {
        const once = await shop.changeOrder(F.paid, { type: 'address', address: NEW_ADDRESS }, 'bot');
        const twice = await shop.changeOrder(F.paid, { type: 'address', address: NEW_ADDRESS }, 'bot');
        expect(twice).toEqual(once);
      });

      it('refuses to change a shipped order', async () => {
        const before = await mustOrder(shop, F.shipped);
        const error = await refused(shop.changeOrder(F.shipped, { type: 'address', address: NEW_ADDRESS }, 'bot'), 'not_allowed', 'already_shipped');
        expect(error.details.status).toBe('shipped');
        expect(await mustOrder(shop, F.shipped)).toEqual(before);
        await refused(shop.changeOrder(F.shipped, { type: 'phone', phone: '13900000000' }, 'bot'), 'not_allowed', 'already_shipped');
        await refused(shop.changeOrder(F.shipped, { type: 'deliveryRequest', text: '周末送货' }, 'bot'), 'not_allowed', 'already_shipped');
      });

      it('refuses to change a delivered or closed order', async () => {
        await refused(shop.changeOrder(F.deliveredRecently, { type: 'phone', phone: '13900000000' }, 'bot'), 'not_allowed', 'already_delivered');
        await shop.changeOrder(F.paid, { type: 'cancel', reason: '不想要了' }, 'bot');
        await refused(shop.changeOrder(F.paid, { type: 'address', address: NEW_ADDRESS }, 'bot'), 'not_allowed', 'order_closed');
      });

      it('changes the phone of a pending order, and refuses a phone that is not one', async () => {
        const after = await shop.changeOrder(F.pending, { type: 'phone', phone: '13900001111' }, 'xiaomei');
        expect(after.address.phone).toBe('13900001111');
        expect(after.notes.at(-1)).toMatchObject({ by: 'xiaomei', text: '收货电话由 13812345678 改为 13900001111' });
        await refused(shop.changeOrder(F.pending, { type: 'phone', phone: '不知道' }, 'bot'), 'invalid', 'bad_change');
      });

      it('records a delivery request', async () => {
        const after = await shop.changeOrder(F.paid, { type: 'deliveryRequest', text: '周末送货' }, 'bot');
        expect(after.deliveryRequest).toBe('周末送货');
        expect(after.notes.at(-1)?.text).toBe('配送要求由「无」改为「周末送货」');
      });

      it('refuses unknown orders and malformed changes', async () => {
        await refused(shop.changeOrder('E00000000000', { type: 'note', text: 'x' }, 'bot'), 'not_found', 'no_such_order');
        const bogus = { type: 'teleport' } as unknown as OrderChange;
        await refused(shop.changeOrder(F.paid, bogus, 'bot'), 'invalid', 'bad_change');
        await refused(shop.changeOrder(F.paid, { type: 'address', address: { ...NEW_ADDRESS, detail: '' } }, 'bot'), 'invalid', 'bad_change');
      });
    });

    describe('changing variants and quantities', () => {
      it('switches a line to another variant of the same product and moves the stock', async () => {
        const [white, black] = [await stockOf(shop, 'P001-WHT-L'), await stockOf(shop, 'P001-BLK-L')];
        const after = await shop.changeOrder(F.paid, { type: 'variant', lines: [{ lineIndex: 0, newSku: 'P001-BLK-L' }] }, 'bot');
        expect(after.items[0]).toEqual({ sku: 'P001-BLK-L', qty: 1, price: 79 });
        expect(after.notes.at(-1)?.text).toBe('规格变更：第1行 纯棉圆领T恤 由 白色 / L 改为 黑色 / L');
        expect(await stockOf(shop, 'P001-WHT-L')).toBe(white + 1);
        expect(await stockOf(shop, 'P001-BLK-L')).toBe(black - 1);
        // Asking again for what the line already is changes nothing.
        expect(await shop.changeOrder(F.paid, { type: 'variant', lines: [{ lineIndex: 0, newSku: 'P001-BLK-L' }] }, 'bot')).toEqual(after);
      });

      it('refuses another product, an empty variant and a line that does not exist', async () => {
        await refused(shop.changeOrder(F.paid, { type: 'variant', lines: [{ lineIndex: 0, newSku: 'P012-LBL-29' }] }, 'bot'), 'not_allowed', 'not_same_product');
        const error = await refused(shop.changeOrder(F.paid, { type: 'variant', lines: [{ lineIndex: 0, newSku: 'P001-BLK-XXL' }] }, 'bot'), 'out_of_stock', 'out_of_stock');
        expect(error.details).toMatchObject({ sku: 'P001-BLK-XXL', available: 0, wanted: 1 });
        await refused(shop.changeOrder(F.paid, { type: 'variant', lines: [{ lineIndex: 7, newSku: 'P001-BLK-L' }] }, 'bot'), 'invalid', 'no_such_line');
        await refused(shop.changeOrder(F.paid, { type: 'variant', lines: [{ lineIndex: 0, newSku: 'NOPE' }] }, 'bot'), 'not_found', 'no_such_sku');
      });

      it('lets only one order take the last piece', async () => {
        expect(await stockOf(shop, 'P001-PNK-L')).toBe(1);
        await shop.changeOrder(F.paid, { type: 'variant', lines: [{ lineIndex: 0, newSku: 'P001-PNK-L' }] }, 'bot');
        expect(await stockOf(shop, 'P001-PNK-L')).toBe(0);
        await refused(shop.changeOrder(F.pending, { type: 'variant', lines: [{ lineIndex: 0, newSku: 'P001-PNK-L' }] }, 'bot'), 'out_of_stock', 'out_of_stock');
      });

      it('changes a quantity within stock and records the amounts', async () => {
        const stock = await stockOf(shop, 'P001-WHT-M');
        const after = await shop.changeOrder(F.pending, { type: 'quantity', sku: 'P001-WHT-M', qty: 3 }, 'bot');
        expect(orderTotal(after)).toBe(237);
        expect(after.notes.at(-1)?.text).toBe('纯棉圆领T恤（白色 / M） 数量由 2 改为 3，订单金额由 ¥158.00 改为 ¥237.00');
        expect(await stockOf(shop, 'P001-WHT-M')).toBe(stock - 1);
        await shop.changeOrder(F.pending, { type: 'quantity', sku: 'P001-WHT-M', qty: 1 }, 'bot');
        expect(await stockOf(shop, 'P001-WHT-M')).toBe(stock + 1);
      });

      it('refuses more pieces than in stock, a sku not on the order, and emptying the order', async () => {
        const stock = await stockOf(shop, 'P001-WHT-M');
        const error = await refused(shop.changeOrder(F.pending, { type: 'quantity', sku: 'P001-WHT-M', qty: 2 + stock + 1 }, 'bot'), 'out_of_stock', 'out_of_stock');
        expect(error.details).toMatchObject({ available: stock, wanted: stock + 1 });
        await refused(shop.changeOrder(F.pending, { type: 'quantity', sku: 'P001-WHT-L', qty: 1 }, 'bot'), 'invalid', 'sku_not_in_order');
        await refused(shop.changeOrder(F.pending, { type: 'quantity', sku: 'P001-WHT-M', qty: 0 }, 'bot'), 'invalid', 'order_would_be_empty');
        await refused(shop.changeOrder(F.shipped, { type: 'quantity', sku: 'P015-BLK-L', qty: 2 }, 'bot'), 'not_allowed', 'already_shipped');
      });

      it('removes one product of several with quantity 0', async () => {
        const stock = await stockOf(shop, 'P012-LBL-29');
        const after = await shop.changeOrder(F.paid, { type: 'quantity', sku: 'P012-LBL-29', qty: 0 }, 'bot');
        expect(after.items.map((i) => i.sku)).toEqual(['P001-WHT-L']);
        expect(await stockOf(shop, 'P012-LBL-29')).toBe(stock + 1);
      });

      it('applies concurrent changes to one order one at a time', async () => {
        const stock = await stockOf(shop, 'P001-WHT-M');
        const [a, b] = await Promise.all([
          shop.changeOrder(F.pending, { type: 'quantity', sku: 'P001-WHT-M', qty: 3 }, 'bot'),
          shop.changeOrder(F.pending, { type: 'quantity', sku: 'P001-WHT-M', qty: 3 }, 'bot'),
        ]);
        expect(a.items[0]?.qty).toBe(3);
        expect(b).toEqual(a);
        expect(await stockOf(shop, 'P001-WHT-M')).toBe(stock - 1);
        const [n1, n2] = await Promise.all([
          shop.changeOrder(F.pending, { type: 'note', text: '客户说周末在家' }, 'ajie'),
          shop.changeOrder(F.pending, { type: 'note', text: '客户要求开发票' }, 'lily'),
        ]);
        expect(n2.notes.length).toBe(n1.notes.length + 1);
        expect((await mustOrder(shop, F.pending)).notes.slice(-2).map((n) => n.text)).toEqual(['客户说周末在家', '客户要求开发票']);
      });
    });

    describe('cancelling', () => {
      it('cancels a paid order, restores the stock and keeps the reason', async () => {
        const [tee, jeans] = [await stockOf(shop, 'P001-WHT-L'), await stockOf(shop, 'P012-LBL-29')];
        const after = await shop.changeOrder(F.paid, { type: 'cancel', reason: '拍错尺码了' }, 'bot');
        expect(after.status).toBe('cancelled');
        expect(after.notes.at(-1)?.text).toBe('订单取消（状态由 已付款，待发货 改为 已取消），原因：拍错尺码了，需退款 ¥308.00');
        expect(await stockOf(shop, 'P001-WHT-L')).toBe(tee + 1);
        expect(await stockOf(shop, 'P012-LBL-29')).toBe(jeans + 1);
        // A retried cancel changes nothing and does not give the stock back twice.
        expect(await shop.changeOrder(F.paid, { type: 'cancel', reason: '拍错尺码了' }, 'bot')).toEqual(after);
        expect(await stockOf(shop, 'P001-WHT-L')).toBe(tee + 1);
      });

      it('cancels a pending order; refuses a shipped one and a cancel without reason', async () => {
        expect((await shop.changeOrder(F.pending, { type: 'cancel', reason: '不想要了' }, 'bot')).status).toBe('cancelled');
        await refused(shop.changeOrder(F.shipped, { type: 'cancel', reason: '不想要了' }, 'bot'), 'not_allowed', 'already_shipped');
        await refused(shop.changeOrder(F.liuPaid, { type: 'cancel', reason: '  ' }, 'bot'), 'invalid', 'bad_change');
      });
    });

    describe('returns and exchanges', () => {
      it('accepts a return within the window and records it', async () => {
        const after = await shop.changeOrder(F.deliveredRecently, { type: 'afterSale', kind: 'return', items: [{ sku: 'P010-GRY-XL' }], reason: '尺码偏大' }, 'bot');
        expect(after.status).toBe('return_requested');
        expect(after.afterSale?.at(-1)).toEqual({ kind: 'return', items: [{ sku: 'P010-GRY-XL' }], reason: '尺码偏大', at: NOW.toISOString(), status: 'requested' });
        expect(after.notes.at(-1)?.text).toBe('申请退货（状态由 已签收 改为 退货申请中）：加绒连帽卫衣（灰色 / XL）×1，原因：尺码偏大');
        // The same request again (a retry) changes nothing; a different one is refused while it is open.
        expect(await shop.changeOrder(F.deliveredRecently, { type: 'afterSale', kind: 'return', items: [{ sku: 'P010-GRY-XL' }], reason: '尺码偏大' }, 'bot')).toEqual(after);
        await refused(
          shop.changeOrder(F.deliveredRecently, { type: 'afterSale', kind: 'exchange', items: [{ sku: 'P010-GRY-XL', newSku: 'P010-GRY-L' }], reason: '换小一码' }, 'bot'),
          'not_allowed',
          'request_open',
        );
      });

      it('refuses a return after the window, with the dates', async () => {
        const error = await refused(
          shop.changeOrder(F.deliveredLongAgo, { type: 'afterSale', kind: 'return', items: [{ sku: 'P019-CML-M' }], reason: '不喜欢' }, 'bot'),
          'not_allowed',
          'return_window_passed',
        );
        expect(error.details.windowDays).toBe(7);
        expect(Date.parse(error.details.windowEndsAt ?? '')).toBe(Date.parse('2026-10-19T10:05:00+08:00'));
        expect((await mustOrder(shop, F.deliveredLongAgo)).status).toBe('delivered');
      });

      it('refuses a return before delivery', async () => {
        await refused(shop.changeOrder(F.shipped, { type: 'afterSale', kind: 'return', items: [{ sku: 'P015-BLK-L' }], reason: '不想要了' }, 'bot'), 'not_allowed', 'not_delivered');
        await refused(shop.changeOrder(F.paid, { type: 'afterSale', kind: 'return', items: [{ sku: 'P001-WHT-L' }], reason: '不想要了' }, 'bot'), 'not_allowed', 'not_delivered');
      });

      it('accepts an exchange to another size in stock and reserves it', async () => {
        const stock = await stockOf(shop, 'P010-GRY-L');
        const after = await shop.changeOrder(F.deliveredRecently, { type: 'afterSale', kind: 'exchange', items: [{ sku: 'P010-GRY-XL', newSku: 'P010-GRY-L' }], reason: '尺码偏大，换小一码' }, 'bot');
        expect(after.status).toBe('exchange_requested');
        expect(after.afterSale?.at(-1)).toMatchObject({ kind: 'exchange', items: [{ sku: 'P010-GRY-XL', newSku: 'P010-GRY-L' }], status: 'requested' });
        expect(after.notes.at(-1)?.text).toContain('加绒连帽卫衣（灰色 / XL）×1 换为 灰色 / L');
        expect(await stockOf(shop, 'P010-GRY-L')).toBe(stock - 1);
      });

      it('refuses an exchange to another product, out of stock, without a new variant, or of a sku not on the order', async () => {
        const exchange = (items: { sku: string; newSku?: string }[]): Promise<Order> =>
          shop.changeOrder(F.deliveredRecently, { type: 'afterSale', kind: 'exchange', items, reason: '换一件' }, 'bot');
        await refused(exchange([{ sku: 'P010-GRY-XL', newSku: 'P011-GRY-XL' }]), 'not_allowed', 'not_same_product');
        await refused(exchange([{ sku: 'P010-GRY-XL', newSku: 'P010-GRY-XXL' }]), 'out_of_stock', 'out_of_stock');
        await refused(exchange([{ sku: 'P010-GRY-XL' }]), 'invalid', 'new_sku_required');
        await refused(exchange([{ sku: 'P001-WHT-L', newSku: 'P001-BLK-L' }]), 'invalid', 'sku_not_in_order');
        expect((await mustOrder(shop, F.deliveredRecently)).status).toBe('delivered');
      });

      it('knows the requests already open in the data', async () => {
        expect((await mustOrder(shop, F.returnRequested)).afterSale?.[0]).toMatchObject({ kind: 'return', status: 'requested' });
        expect((await mustOrder(shop, F.exchangeRequested)).afterSale?.[0]?.items).toEqual([{ sku: 'P024-BLK-S', newSku: 'P024-BLK-M' }]);
      });
    });

    describe('notes', () => {
      it('adds a note in any status; the same note twice in a row is kept once', async () => {
        const before = await mustOrder(shop, F.shipped);
        const after = await shop.changeOrder(F.shipped, { type: 'note', text: '客户来电催件，已联系快递' }, 'xiaomei');
        expect(after.notes).toHaveLength(before.notes.length + 1);
        expect(after.notes.at(-1)).toMatchObject({ by: 'xiaomei', text: '客户来电催件，已联系快递' });
        expect(await shop.changeOrder(F.shipped, { type: 'note', text: '客户来电催件，已联系快递' }, 'xiaomei')).toEqual(after);
      });
    });
  });
}

shopContract('demo shop', async () => createDemoShop(await loadShopData(DEMO_SHOP_PATH), { now: () => new Date(NOW) }));

describe('over HTTP', () => {
  // Each test gets a fresh backend over fresh demo data, as the demo shop run gets a fresh shop.
  const servers: ShopServer[] = [];
  afterEach(async () => { await Promise.all(servers.splice(0).map((s) => s.close())); });
  shopContract('HTTP shop adapter against a local backend', async () => {
    const server = await startShopServer(createDemoShop(await loadShopData(DEMO_SHOP_PATH), { now: () => new Date(NOW) }));
    servers.push(server);
    return createHttpShop({ baseUrl: server.url, currency: 'CNY' });
  });
});

describe('HTTP shop adapter when the backend misbehaves', () => {
  let server: ShopServer;
  let shop: Shop;
  beforeEach(async () => {
    server = await startShopServer(createDemoShop(await loadShopData(DEMO_SHOP_PATH), { now: () => new Date(NOW) }));
    shop = createHttpShop({ baseUrl: `${server.url}/`, timeoutMs: 200 });
  });
  afterEach(async () => { await server.close(); });

  it('a backend slower than the time limit is unavailable (timeout), and ping says false', async () => {
    server.fault({ delayMs: 400 });
    const started = Date.now();
    await refused(shop.order(F.paid), 'unavailable', 'timeout');
    expect(Date.now() - started).toBeLessThan(350);
    expect(await shop.ping()).toBe(false);
  });

  it('a 5xx, a body that is not JSON, or one that breaks the contract is unavailable', async () => {
    server.fault({ status: 503 });
    await refused(shop.products(), 'unavailable', 'shop_unavailable');
    server.fault({ rawBody: '<html>oops' });
    await refused(shop.order(F.paid), 'unavailable', 'shop_unavailable');
    server.fault({ rawBody: JSON.stringify({ id: F.paid, status: 'teleported' }) });
    const error = await refused(shop.order(F.paid), 'unavailable', 'shop_unavailable');
    expect(error.retryable).toBe(true);
  });

  it('a backend that is not there at all is unavailable', async () => {
    await server.close();
    await refused(shop.customer(F.zhang), 'unavailable', 'shop_unavailable');
    expect(await shop.ping()).toBe(false);
  });

  it('speaks the documented routes', async () => {
    await shop.order(F.paid);
    await shop.customerByChannel('wechat', 'wxid_zhangwei');
    await shop.promotions(NOW);
    await shop.changeOrder(F.paid, { type: 'note', text: '客户来电' }, 'xiaomei');
    expect(server.requests).toEqual([
      `GET /orders/${F.paid}`,
      'GET /customers?wechatId=wxid_zhangwei',
      `GET /promotions?at=${encodeURIComponent(NOW.toISOString())}`,
      `POST /orders/${F.paid}/changes`,
    ]);
  });
});

describe('order rules as pure functions', () => {
  let data: ShopData;
  beforeEach(async () => {
    data = await loadShopData(DEMO_SHOP_PATH);
  });
  const order = (id: string): Order => {
    const found = data.orders.find((o) => o.id === id);
    if (found === undefined) throw new Error(`no ${id}`);
    return found;
  };

  it('ownsOrder: the bound customer, or the last 4 digits of the phone on the order', () => {
    const o = order(F.liuPaid);
    expect(ownsOrder(o, { customerId: F.liu })).toBe(true);
    expect(ownsOrder(o, { customerId: F.zhang })).toBe(false);
    expect(ownsOrder(o, { phoneLast4: '5432' })).toBe(true);
    expect(ownsOrder(o, { phoneLast4: ' 5432 ' })).toBe(true);
    expect(ownsOrder(o, { phoneLast4: '1234' })).toBe(false);
    expect(ownsOrder(o, { phoneLast4: '32' })).toBe(false);
    expect(ownsOrder(o, { customerId: F.zhang, phoneLast4: '5432' })).toBe(true);
    expect(ownsOrder(o, {})).toBe(false);
  });

  it('orderTotal, describeVariant and statusText', () => {
    expect(orderTotal(order(F.paid))).toBe(308);
    expect(orderTotal({ items: [{ sku: 'a', qty: 3, price: 0.1 }] })).toBe(0.3);
    expect(describeVariant({ options: { size: 'L', color: '白色' } })).toBe('白色 / L');
    expect(describeVariant({ options: { length: '九分', color: '浅蓝色', size: '27' } })).toBe('浅蓝色 / 27 / 九分');
    expect(describeVariant({ options: {} })).toBe('');
    for (const status of OrderStatus.options) {
      expect(statusText(status, 'zh')).toMatch(/\p{Script=Han}/u);
      expect(statusText(status, 'en')).toMatch(/^[a-z ,]+$/);
    }
    expect(statusText('paid', 'zh')).toBe('已付款，待发货');
  });

  it('has words for every refusal in both languages', () => {
    const error = new ShopError('not_allowed', 'return_window_passed', { windowDays: 7 });
    expect(shopErrorText(error, 'zh')).toContain('7天');
    expect(shopErrorText(error, 'en')).toContain('7-day');
    expect(error.httpStatus).toBe(409);
    expect(error.retryable).toBe(false);
    expect(new ShopError('unavailable', 'timeout').retryable).toBe(true);
  });

  it('rebases the demo data to another now, keeping relative facts', async () => {
    const later = new Date('2027-03-01T09:00:00+08:00');
    const moved = rebaseShopData(data, NOW, later);
    const shop = createDemoShop(moved, { now: () => later });
    const o = await mustOrder(shop, F.deliveredRecently);
    expect(Date.parse(o.deliveredAt ?? '') - later.getTime()).toBe(Date.parse(order(F.deliveredRecently).deliveredAt ?? '') - NOW.getTime());
    expect(o.deliveredAt).toMatch(/\+08:00$/);
    expect((await shop.changeOrder(F.deliveredRecently, { type: 'afterSale', kind: 'return', items: [{ sku: 'P010-GRY-XL' }], reason: '不喜欢' }, 'bot')).status).toBe('return_requested');
    parseShopData(moved, 'rebased');
  });

  it('honours another return window', async () => {
    const shop = createDemoShop(data, { now: () => NOW, returnWindowDays: 30 });
    const after = await shop.changeOrder(F.deliveredLongAgo, { type: 'afterSale', kind: 'return', items: [{ sku: 'P019-CML-M' }], reason: '不喜欢' }, 'bot');
    expect(after.status).toBe('return_requested');
  });
});

describe('the shipped data file', () => {
  it('parses, and holds a realistic shop', async () => {
    const data = await loadShopData(DEMO_SHOP_PATH);
    expect(data.currency).toBe('CNY');
    expect(data.products.length).toBeGreaterThanOrEqual(28);
    expect(data.customers).toHaveLength(20);
    expect(data.orders).toHaveLength(60);
    expect(data.promotions).toHaveLength(3);
    expect(data.products.some((p) => p.variants.some((v) => v.stock === 0))).toBe(true);
    expect(data.products.some((p) => p.variants.some((v) => v.options.size === '均码'))).toBe(true);
    expect(new Set(data.orders.flatMap((o) => o.shipment?.carrier ?? []))).toEqual(new Set(['顺丰速运', '中通快递', '圆通速递', '京东物流']));
    for (const o of data.orders) expect(o.id).toMatch(/^E\d{11}$/);
    for (const c of data.customers) expect(c.phone).toMatch(/^1[3-9]\d{9}$/);
  });

  it('covers every order status, and deliveries inside and outside the return window', async () => {
    const data = await loadShopData(DEMO_SHOP_PATH);
    expect(new Set(data.orders.map((o) => o.status))).toEqual(new Set(OrderStatus.options));
    const ages = data.orders.filter((o) => o.status === 'delivered').map((o) => (NOW.getTime() - Date.parse(o.deliveredAt ?? '')) / 86_400_000);
    expect(ages.filter((d) => d <= 7).length).toBeGreaterThan(1);
    expect(ages.filter((d) => d > 7).length).toBeGreaterThan(1);
    expect(ages.every((d) => d > 0)).toBe(true);
  });

  it('is what the generator writes, and the generator is deterministic', async () => {
    expect(buildDemoShop()).toEqual(buildDemoShop());
    expect(await readFile(DEMO_SHOP_PATH, 'utf8')).toBe(demoShopJson());
  });
});

describe('parseShopData', () => {
  let data: ShopData;
  beforeEach(async () => {
    data = await loadShopData(DEMO_SHOP_PATH);
  });
  const failure = (json: unknown, source = 'data/broken.json'): ShopDataError => {
    try {
      parseShopData(json, source);
    } catch (e) {
      expect(e).toBeInstanceOf(ShopDataError);
      return e as ShopDataError;
    }
    throw new Error('expected parseShopData to refuse');
  };

  it('names the file, the JSON path and the reason of an unknown sku', () => {
    const broken = structuredClone(data);
    const line = broken.orders[3]?.items[0];
    if (line === undefined) throw new Error('fixture');
    line.sku = 'NOPE-1';
    const error = failure(broken);
    expect(error.message).toContain('data/broken.json');
    expect(error.message).toContain('orders[3].items[0].sku: no product has sku "NOPE-1"');
    expect(error.issues).toEqual([{ path: 'orders[3].items[0].sku', message: 'no product has sku "NOPE-1"' }]);
  });

  it('refuses times without offset, unknown statuses, unknown customers and duplicates', () => {
    const broken = structuredClone(data) as unknown as { orders: Record<string, unknown>[]; products: { variants: { sku: string }[] }[] };
    const [o0, o1, o2] = broken.orders;
    if (o0 === undefined || o1 === undefined || o2 === undefined) throw new Error('fixture');
    o0.createdAt = '2026-10-01 10:00';
    expect(failure(broken).issues.map((i) => i.path)).toEqual(['orders[0].createdAt']);
    o0.createdAt = '2026-10-01T10:00:00+08:00';
    o1.status = 'lost';
    expect(failure(broken).message).toMatch(/orders\[1\]\.status: /);
    o1.status = 'paid';
    o2.customerId = 'C404';
    const dupe = broken.products[1]?.variants[0];
    const original = broken.products[0]?.variants[0]?.sku;
    if (dupe === undefined || original === undefined) throw new Error('fixture');
    const orphanedSku = dupe.sku;
    dupe.sku = original;
    const paths = failure(broken).issues.map((i) => i.path);
    expect(paths).toContain('orders[2].customerId');
    expect(paths).toContain('products[1].variants[0].sku');
    expect(paths.length).toBeGreaterThanOrEqual(2);
    dupe.sku = orphanedSku;
  });

  it('refuses a file that is not JSON, naming it', async () => {
    await expect(loadShopData('/nonexistent/shop.json')).rejects.toThrow(/\/nonexistent\/shop\.json/);
    expect(failure('not an object').message).toMatch(/^data\/broken\.json: invalid shop data\n {2}\(root\): /);
  });
});
