/** Starts the real bot in-process on a free port (memory store, or Redis when a URL is given). */
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createBot, type Bot } from '../../src/bot.ts';
import { readConfig } from '../../src/config.ts';
import { createLogger } from '../../src/server/logger.ts';
import { webRef } from '../../src/bots/webchat.ts';
import { createRedisStore } from '../../src/store/redis.ts';
import type { Store } from '../../src/store/types.ts';
import type { Shop } from '../../src/commerce/shop.ts';

export interface TestBot {
  url: string;
  bot: Bot;
  /** What the bot logged, one JSON line each. */
  logs: string[];
  close(): Promise<void>;
  /** Sends a later message to a web session through the outbox, as an agent's reply would go. */
  pushToSession(sessionId: string, text: string): Promise<void>;
}

export async function startTestBot(opts: { redisUrl?: string; keyPrefix?: string; env?: Record<string, string>; now?: () => Date; store?: Store; shopOverride?: Shop } = {}): Promise<TestBot> {
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
  const config = readConfig({ PORT: '0', ...opts.env });
  const store = opts.store ?? (opts.redisUrl ? await createRedisStore(opts.redisUrl, { keyPrefix: opts.keyPrefix ?? `t${Date.now()}${Math.random().toString(36).slice(2, 6)}:` }) : undefined);
  const bot = await createBot(config, { log: createLogger('info', sink), ...(store ? { store } : {}), ...(opts.now ? { now: opts.now } : {}), ...(opts.shopOverride ? { shop: opts.shopOverride } : {}) });
  const server = await bot.listen(0);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bot,
    logs,
    close: () => bot.close(),
    pushToSession: (sessionId, text) => bot.pipeline.sendLater(webRef(sessionId), { kind: 'text', text }, 'agent', 'test-agent'),
  };
}
