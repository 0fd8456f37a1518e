/** Telegram beyond the contract: /start and language, bound customers, callback answers, the webhook's secret, blocked users, one poller. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationIdOf } from '../src/bots/messages.ts';
import { callbackDataOf, langOfCode, webhookSecretFor } from '../src/bots/telegram.ts';
import { createMemoryStore } from '../src/store/memory.ts';
import { chat, expectMessage, sleep, telegramFixture, until, type TelegramFixture } from './support/channel-bot.ts';
import { startFakeTelegram } from './support/telegram-server.ts';

describe('Telegram parsing', () => {
  it('maps language codes to zh or en, and long option values to the button’s position', () => {
    expect([langOfCode('zh-hans'), langOfCode('zh-TW'), langOfCode('en'), langOfCode('ru'), langOfCode(undefined)]).toEqual(['zh', 'zh', 'en', 'en', undefined]);
    expect(callbackDataOf({ label: '转人工', value: '转人工' }, 0)).toBe('v:转人工');
    const long = { label: '退货运费谁出？七天无理由退货的运费由谁承担', value: '退货运费谁出？七天无理由退货的运费由谁承担' };
    expect(callbackDataOf(long, 2)).toBe('i:2');
    expect(webhookSecretFor('1:a')).toMatch(/^[0-9a-f]{64}$/);
    expect(webhookSecretFor('1:a')).not.toBe(webhookSecretFor('1:b'));
  });
});

describe('Telegram by long polling', () => {
  let fx: TelegramFixture;
  beforeAll(async () => { fx = await telegramFixture('polling'); });
  afterAll(async () => { await fx?.close(); });

  it('greets on /start in the customer’s language', async () => {
    const zh = fx.user({ id: 111_001, first_name: '小红', language_code: 'zh-hans' });
    await chat(zh).says('/start', /您好/);
    const en = fx.user({ id: 111_002, first_name: 'Tom', language_code: 'en' });
    await chat(en).says('/start', /Hello/);
    expect(en.received().at(-1)).toMatch(/\[Track an order\]/);
    const transcript = await fx.bot.store.conversations.transcript(conversationIdOf(en.ref));
    expect(transcript[0]).toMatchObject({ from: 'customer', text: 'hello', messageId: expect.stringMatching(/^tg:\d+$/) });
  });

  it('greets a bound customer by surname', async () => {
    await chat(fx.user({ id: 5123456789, first_name: 'Na', language_code: 'zh' })).says('你好', /李女士您好/);
  });

  it('answers the callback query and takes the keyboard away once chosen', async () => {
    const user = { id: 111_003, first_name: '阿强', language_code: 'zh' };
    const customer = fx.user(user);
    await (await chat(customer).says('在吗', /您好/)).chooses(0, /订单号/);
    const answered = fx.telegram.calls.find((c) => c.method === 'answerCallbackQuery');
    expect(answered?.payload.callback_query_id).toEqual(expect.any(String));
    const greeting = fx.telegram.sentTo(user.id).find((m) => /您好/.test(m.text));
    expect(greeting?.buttons).toEqual([]);
    expect(fx.telegram.calls.some((c) => c.method === 'editMessageReplyMarkup' && c.payload.message_id === greeting?.message_id)).toBe(true);
  });

  it('gives up at once on a customer who blocked the bot, noting it in the transcript', async () => {
    const customer = fx.customer();
    await chat(customer).says('在吗', /您好/);
    fx.telegram.failNext('sendMessage', 403);
    await fx.bot.pipeline.sendLater(customer.ref, { kind: 'text', text: '您的订单已发货。' }, 'agent');
    const id = conversationIdOf(customer.ref);
    const line = await until('the note', async () => (await fx.bot.store.conversations.transcript(id)).find((l) => l.from === 'system'));
    expect(line.text).toMatch(/未能送达.*您的订单已发货/);
    expect(await fx.bot.store.outbox.pending(id)).toEqual([]);
    expect(fx.logs.join('')).not.toMatch(/will retry/);
  });
});

describe('Telegram by webhook', () => {
  let fx: TelegramFixture;
  beforeAll(async () => { fx = await telegramFixture('webhook'); });
  afterAll(async () => { await fx?.close(); });

  it('refuses a post without the secret token, and handles one with it', async () => {
    const url = fx.telegram.webhook?.url ?? '';
    const update = { update_id: 1, message: { message_id: 1, date: 1, chat: { id: 222_001, type: 'private' }, from: { id: 222_001, is_bot: false, first_name: 'X' }, text: '在吗' } };
    const post = (secret?: string) => fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
      body: JSON.stringify(update),
    });
    expect((await post()).status).toBe(401);
    expect((await post('wrong')).status).toBe(401);
    await sleep(100);
    expect(fx.telegram.sentTo(222_001)).toEqual([]);
    expect((await post(fx.telegram.webhook?.secret)).status).toBe(200);
    await until('the reply', () => fx.telegram.sentTo(222_001).find((m) => /您好/.test(m.text)));
    expect(fx.telegram.webhookResponses.every((s) => s === 200)).toBe(true);
  });
});

describe('Telegram across processes', () => {
  it('one process polls, another takes over when it stops; both can send', async () => {
    const store = createMemoryStore();
    const telegram = await startFakeTelegram();
    const a = await telegramFixture('polling', { store, telegram });
    const b = await telegramFixture('polling', { store, telegram, waitRunning: false });
    try {
      await sleep(200);
      expect(b.bot.channels.status().telegram?.state).toBe('standby');
      expect(telegram.conflicts).toBe(0);
      const customer = a.user({ id: 333_001, first_name: '小周', language_code: 'zh' });
      await chat(customer).says('在吗', /您好/);
      // B does not poll, but it sends what it queued itself.
      await b.bot.pipeline.sendLater(customer.ref, { kind: 'text', text: '客服小陈为您服务。' }, 'agent');
      await expectMessage(customer, /客服小陈/, 0);

      await a.close();
      await until('B polling', () => b.bot.channels.status().telegram?.state === 'running');
      await chat(customer).says('查订单', /订单号/);
      expect(telegram.conflicts).toBe(0);
    } finally {
      await a.close().catch(() => undefined);
      await b.close();
      await telegram.close();
    }
  });
});
