/**
 * A local shop backend speaking the REST contract of docs/shop-api.openapi.yaml over any `Shop`
 * (the demo shop in tests), so the HTTP adapter is tested with real HTTP and the same contract suite
 * as the demo shop. Faults (slow answers, 500s, bodies that are not JSON) can be switched on.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ShopError, type Shop } from '../../src/commerce/shop.ts';
import type { OrderChange } from '../../src/commerce/schema.ts';

/** What the server should do wrong, for the adapter's failure tests. */
export interface ShopServerFault {
  /** Answer every request this late (ms). */
  delayMs?: number;
  /** Answer every request with this status and an empty body. */
  status?: number;
  /** Answer 200 with this raw body. */
  rawBody?: string;
}

export interface ShopServer {
  url: string;
  /** Requests seen, as "METHOD /path?query". */
  requests: string[];
  fault(f: ShopServerFault | null): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}

/** Routes one request of the contract to the shop. */
async function route(shop: Shop, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://shop.local');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [head, id, sub] = parts;
  const notFound = (): void => send(res, 404, { error: { code: 'not_found', reason: head === 'variants' ? 'no_such_sku' : 'no_such_order', message: 'not found' } });
  const one = <T>(value: T | null): void => (value === null ? notFound() : send(res, 200, value));

  if (req.method === 'GET') {
    if (head === 'health' && !id) return send(res, 200, { ok: await shop.ping(), currency: shop.currency });
    if (head === 'products' && !id) return send(res, 200, { products: await shop.products() });
    if (head === 'products' && id) return one(await shop.product(id));
    if (head === 'variants' && id) return one(await shop.variant(id));
    if (head === 'customers' && !id) {
      const wechat = url.searchParams.get('wechatId');
      const telegram = url.searchParams.get('telegramId');
      const found = wechat ? await shop.customerByChannel('wechat', wechat) : telegram ? await shop.customerByChannel('telegram', telegram) : null;
      return send(res, 200, { customers: found ? [found] : [] });
    }
    if (head === 'customers' && id && sub === 'orders') return send(res, 200, { orders: await shop.ordersOf(id) });
    if (head === 'customers' && id) return one(await shop.customer(id));
    if (head === 'orders' && id && !sub) return one(await shop.order(id));
    if (head === 'promotions') {
      const at = url.searchParams.get('at');
      if (!at || Number.isNaN(Date.parse(at))) return send(res, 400, { error: { code: 'invalid', reason: 'bad_change', message: 'at: an ISO time is required' } });
      return send(res, 200, { promotions: await shop.promotions(new Date(at)) });
    }
  }
  if (req.method === 'POST' && head === 'orders' && id && sub === 'changes') {
    const body = await readJson(req) as { change?: OrderChange; by?: string } | null;
    if (!body || typeof body.by !== 'string' || body.by === '') return send(res, 400, { error: { code: 'invalid', reason: 'bad_change', message: 'by: who asks is required' } });
    return send(res, 200, await shop.changeOrder(id, body.change as OrderChange, body.by));
  }
  send(res, 404, { error: { code: 'not_found', reason: 'no_such_order', message: `no route ${req.method} ${url.pathname}` } });
}

/** Starts the server on a free local port. */
export async function startShopServer(shop: Shop): Promise<ShopServer> {
  let fault: ShopServerFault | null = null;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    void (async () => {
      if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault?.delayMs));
      if (fault?.status) { res.writeHead(fault.status); res.end(); return; }
      if (fault?.rawBody !== undefined) { res.writeHead(200, { 'content-type': 'application/json' }); res.end(fault.rawBody); return; }
      try {
        await route(shop, req, res);
      } catch (error) {
        if (error instanceof ShopError) {
          send(res, error.httpStatus, { error: { code: error.code, reason: error.reason, message: error.message, details: error.details } });
        } else {
          send(res, 500, { error: { code: 'unavailable', reason: 'shop_unavailable', message: String(error) } });
        }
      }
    })().catch(() => { if (!res.headersSent) { res.writeHead(500); res.end(); } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fault: (f) => { fault = f; },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
