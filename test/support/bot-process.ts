/**
 * A bot in its own process for fault tests (SIGKILL in the middle of a turn). Reads REDIS_URL,
 * BOT_KEY_PREFIX and SLOW_ORDER_MS from the environment; prints one JSON line `{"port": n}` once it listens.
 */
import { Writable } from 'node:stream';
import { createBot } from '../../src/bot.ts';
import { readConfig } from '../../src/config.ts';
import { createLogger } from '../../src/server/logger.ts';
import { createDemoShop, DEMO_SHOP_PATH, loadShopData } from '../../src/commerce/demo-shop.ts';
import type { Shop } from '../../src/commerce/shop.ts';
import type { AddressInfo } from 'node:net';
import { createRedisStore } from '../../src/store/redis.ts';

const slowMs = Number(process.env.SLOW_ORDER_MS ?? 0);
const inner = createDemoShop(await loadShopData(DEMO_SHOP_PATH));
// Order look-ups take a while, so a test can kill the process while a turn is inside one.
const shop: Shop = Object.assign(Object.create(inner) as Shop, {
  currency: inner.currency,
  async order(id: string) {
    await new Promise((resolve) => setTimeout(resolve, slowMs));
    return inner.order(id);
  },
});
const quiet = new Writable({ write(_chunk, _enc, done) { done(); } });
const store = await createRedisStore(process.env.REDIS_URL!, { keyPrefix: process.env.BOT_KEY_PREFIX ?? 'bot:' });
const bot = await createBot(readConfig({ PORT: '0' }), { log: createLogger('warn', quiet), shop, store });
const server = await bot.listen(0);
process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
