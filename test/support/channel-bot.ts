/** Bots with a platform channel on, driven as customers would drive them (for the channel test files). */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { createBot, type Bot, type BotOptions } from '../../src/bot.ts';
import type { ConversationRef } from '../../src/bots/messages.ts';
import { readConfig } from '../../src/config.ts';
import { createLogger } from '../../src/server/logger.ts';
import type { Store } from '../../src/store/types.ts';
import { startFakeTelegram, type FakeTelegram, type TgTestUser } from './telegram-server.ts';
import { createFakeWechat, type FakeWechat, type WechatCustomer } from './wechat.ts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await check();
    if (got !== undefined && got !== false) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** How many platform redeliveries the pipeline dropped on a channel (the metric). */
export async function duplicatesOn(bot: Bot, channel: string): Promise<number> {
  const metric = await bot.metrics.registry.getSingleMetric('bot_duplicate_messages_total')?.get();
  return metric?.values.find((v) => v.labels.channel === channel)?.value ?? 0;
}

/** A customer on some channel, as the contract sees them. */
export interface Customer {
  ref: ConversationRef;
  /** Writes a message; returns what `redeliver` needs to deliver the very same message again. */
  say(text: string): Promise<() => Promise<void>>;
  /** Picks the `index`-th quick reply of the last message that offered some (button or number). */
  choose(index: number): Promise<void>;
  /** Texts received so far (options included as the platform shows them). */
  received(): string[];
}

/** A bot with one channel on, and what the contract needs to drive it. */
export interface ChannelFixture {
  bot: Bot;
  logs: string[];
  customer(): Customer;
  /** Makes the next send on the channel fail as a dropped connection would. */
  failNextSend(): void;
  /** Lets time pass on the bot's clock (retry backoff) and wakes the deliverer. */
  skip(ms: number): void;
  close(): Promise<void>;
}

/** Waits for the next received message matching `pattern` after `from`; returns its index. */
export async function expectMessage(customer: Customer, pattern: RegExp, from: number): Promise<number> {
  return until(`a message matching ${String(pattern)}; got:\n${customer.received().join('\n---\n')}`, () => {
    const index = customer.received().findIndex((text, i) => i >= from && pattern.test(text));
    return index >= 0 ? index : undefined;
  });
}

/** A conversation as it reads: each step waits for the bot's answer before the next. */
export function chat(customer: Customer) {
  let cursor = 0;
  const api = {
    async says(text: string, expected: RegExp) {
      const start = customer.received().length;
      await customer.say(text);
      cursor = (await expectMessage(customer, expected, start)) + 1;
      return api;
    },
    async chooses(index: number, expected: RegExp) {
      const start = customer.received().length;
      await customer.choose(index);
      cursor = (await expectMessage(customer, expected, start)) + 1;
      return api;
    },
    async thenGets(expected: RegExp) {
      cursor = (await expectMessage(customer, expected, cursor)) + 1;
      return api;
    },
  };
  return api;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Options of a test bot: channel doubles, and a store shared with other "processes". */
export interface TestBotOptions {
  channels?: BotOptions['channels'];
  /** Shared by several bots, as one Redis is by several processes; closing a bot leaves it open. */
  store?: Store;
}

/** Starts a bot listening on 127.0.0.1 with a clock tests can move forward (`skip`). */
export async function startBot(env: Record<string, string>, opts: TestBotOptions = {}): Promise<{ bot: Bot; logs: string[]; skip(ms: number): void }> {
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
  let offset = 0;
  const shared = opts.store;
  const bot = await createBot(readConfig({ PORT: '0', ...env }), {
    log: createLogger('info', sink),
    now: () => new Date(Date.now() + offset),
    ...(opts.channels ? { channels: opts.channels } : {}),
    ...(shared ? { store: { ...shared, close: async () => undefined } } : {}),
  });
  await bot.listen(Number(env.PORT ?? 0));
  return { bot, logs, skip: (ms) => { offset += ms; bot.delivery.kick(); } };
}

/** A WeChat customer: the contract's driver, and the mock contact behind it. */
export type WechatTestCustomer = Customer & { contact: WechatCustomer };

export interface WechatFixture extends ChannelFixture {
  wechat: FakeWechat;
  uploads: string;
  /** A customer with this WeChat id and name (and the shop's remark for them). */
  contact(id: string, name: string, opts?: { alias?: string }): WechatTestCustomer;
}

export async function wechatFixture(opts: { store?: Store; wechat?: FakeWechat; login?: boolean } = {}): Promise<WechatFixture> {
  const wechat = opts.wechat ?? createFakeWechat();
  const uploads = mkdtempSync(path.join(os.tmpdir(), 'wechat-uploads-'));
  const { bot, logs, skip } = await startBot({}, {
    channels: { wechatPuppet: wechat.puppet, uploadsDir: uploads, wechatRate: { perSecond: 1000, burst: 100 }, holder: { retryMs: 50 } },
    ...(opts.store ? { store: opts.store } : {}),
  });
  if (opts.login ?? true) {
    await until('WeChat started', () => bot.channels.wechat?.status().state === 'starting' || bot.channels.wechat?.status().state === 'loggedIn');
    wechat.login();
    await until('WeChat login', () => bot.channels.wechat?.status().state === 'loggedIn');
  }
  let n = 0;
  function contact(id: string, name: string, more: { alias?: string } = {}): WechatTestCustomer {
    const c = wechat.customer(id, name, more);
    return {
      contact: c,
      ref: c.ref,
      async say(text) {
        const messageId = c.say(text);
        return async () => { wechat.puppet.emit('message', { messageId }); };
      },
      async choose(index) { c.say(String(index + 1)); },
      received: () => c.received.map((r) => r.text),
    };
  }
  return {
    bot, logs, wechat, uploads, contact, skip,
    customer: () => contact(`wxid_customer_${++n}_${Date.now()}`, `顾客${n}`),
    failNextSend: () => wechat.failSends(1),
    async close() {
      await bot.close();
      rmSync(uploads, { recursive: true, force: true });
    },
  };
}

export interface TelegramFixture extends ChannelFixture {
  telegram: FakeTelegram;
  user(u: TgTestUser): Customer;
}

export async function telegramFixture(
  mode: 'polling' | 'webhook',
  opts: { store?: Store; telegram?: FakeTelegram; waitRunning?: boolean } = {},
): Promise<TelegramFixture> {
  const telegram = opts.telegram ?? await startFakeTelegram();
  const port = mode === 'webhook' ? await freePort() : 0;
  const env: Record<string, string> = {
    PORT: String(port),
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    ...(mode === 'webhook' ? { TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/webhook` } : {}),
  };
  const { bot, logs, skip } = await startBot(env, { channels: { holder: { retryMs: 50 } }, ...(opts.store ? { store: opts.store } : {}) });
  if (opts.waitRunning ?? true) await until(`Telegram ${mode}`, () => bot.channels.telegram?.status().state === 'running');
  if (mode === 'webhook') expect(telegram.webhook?.secret).toMatch(/^[\w-]{20,}$/);
  let n = 0;
  function user(u: TgTestUser): Customer {
    const received = (): string[] => telegram.sentTo(u.id).map((m) => [m.text, ...m.buttons.map((b) => `[${b.text}]`)].join('\n'));
    return {
      ref: { channel: 'telegram', chatId: String(u.id), userId: String(u.id) },
      async say(text) {
        const update = await telegram.say(u, text);
        return () => telegram.redeliver(update);
      },
      async choose(index) {
        const offered = [...telegram.sentTo(u.id)].reverse().find((m) => m.buttons.length > 0);
        if (!offered) throw new Error('no message with buttons');
        await telegram.press(u, offered, index);
      },
      received,
    };
  }
  return {
    bot, logs, telegram, user, skip,
    customer: () => user({ id: 900_000 + ++n + Math.floor(Math.random() * 1000) * 1000, first_name: '小明', language_code: 'zh-hans' }),
    failNextSend: () => telegram.failNext('sendMessage', 502),
    async close() {
      await bot.close();
      if (!opts.telegram) await telegram.close();
    },
  };
}
