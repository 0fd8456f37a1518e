/** The pipeline's promises: a failed turn writes nothing and apologises; silence brings a reminder, then the close. */
import { afterEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startTestBot, type TestBot } from './support/bot.ts';
import { talk } from './support/transcript.ts';
import { createDemoShop, DEMO_SHOP_PATH, loadShopData } from '../src/commerce/demo-shop.ts';
import type { Shop } from '../src/commerce/shop.ts';
import { createMemoryStore } from '../src/store/memory.ts';
import { StoreUnavailable, type Store } from '../src/store/types.ts';
import { conversationIdOf } from '../src/bots/messages.ts';
import { webRef } from '../src/bots/webchat.ts';

let t: TestBot | undefined;
afterEach(async () => { await t?.close(); t = undefined; });

async function brokenShop(): Promise<Shop> {
  const inner = createDemoShop(await loadShopData(DEMO_SHOP_PATH));
  return Object.assign(Object.create(inner) as Shop, { currency: inner.currency, order: async () => { throw new TypeError('bug in the shop adapter'); } });
}

describe('a failed turn', () => {
  it('apologises and offers a person, writes nothing back, and logs the conversation', async () => {
    t = await startTestBot({ shopOverride: await brokenShop() });
    const chat = talk(t.url);
    await chat.user('查订单').expectReply(/订单号/);
    const id = conversationIdOf(webRef(chat.sessionId));
    const before = await t.bot.store.conversations.load(id);
    await chat.user('E20261029001').expectReply(/非常抱歉/).expectQuickReplies(['转人工']);
    const after = await t.bot.store.conversations.load(id);
    expect(after?.version).toBe(before?.version);
    expect((await t.bot.store.conversations.transcript(id)).map((l) => l.text)).not.toContain('E20261029001');
    expect(t.logs.join('')).toMatch(new RegExp(`"conversationId":"${id}".*"msg":"turn failed"`));
    // The same message again runs again (it was not marked seen), here failing the same way.
    await chat.user('E20261029001').expectReply(/非常抱歉/);
  });

  it('with the store down, the customer is told politely that the system is busy', async () => {
    const store: Store = createMemoryStore();
    const down = { ...store, conversations: { ...store.conversations, load: async () => { throw new StoreUnavailable('redis down'); }, beginTurn: async () => { throw new StoreUnavailable('redis down'); } } };
    t = await startTestBot({ store: down });
    await talk(t.url).user('在吗').expectReply(/系统正忙/);
  });
});

describe('a saved state', () => {
  it('written by someone else is checked: one that does not fit starts the conversation afresh', async () => {
    t = await startTestBot();
    const chat = talk(t.url);
    await chat.user('查订单').expectReply(/订单号/);
    const id = conversationIdOf(webRef(chat.sessionId));
    const saved = await t.bot.store.conversations.load(id);
    // Another writer (an older release, a hand edit) leaves a state of another shape.
    await t.bot.store.conversations.commit({ conversationId: id, expectedVersion: saved!.version, state: { v: 99, dialog: 'broken' }, transcript: [], outbox: [] });
    // Not the order question any more: the bot greets a new conversation, and saves a good state.
    await chat.user('在吗').expectReply(/您好/);
    const after = await t.bot.store.conversations.load(id);
    expect(after?.version).toBe(saved!.version + 2);
    expect(after?.state).toMatchObject({ v: 1, mode: 'bot', dialog: { frame: null } });
  });
});

describe('silence', () => {
  it('reminds after the policy minutes, then closes; the reminder reaches the web chat later', async () => {
    let clock = Date.parse('2026-11-22T10:00:00+08:00');
    t = await startTestBot({ now: () => new Date(clock) });
    const sessionId = `s-${randomUUID()}`;
    await talk(t.url, sessionId).user('查订单').expectReply(/订单号/);
    const history = async (): Promise<string[]> => (await t!.bot.store.conversations.transcript(conversationIdOf(webRef(sessionId)))).map((l) => l.text);

    clock += 4 * 60_000;
    await t.bot.delivery.runOnce();
    expect(await history()).toHaveLength(2); // not yet

    const pushed: string[] = [];
    await t.bot.store.bus.subscribe(`web:${sessionId}`, (p) => { pushed.push(String(p.text)); });
    clock += 2 * 60_000;
    await t.bot.delivery.runOnce();
    await t.bot.delivery.runOnce();
    expect((await history()).at(-1)).toMatch(/请问还在吗/);
    await expect.poll(() => pushed).toEqual([expect.stringMatching(/请问还在吗/)]);

    clock += 6 * 60_000;
    await t.bot.delivery.runOnce();
    await t.bot.delivery.runOnce();
    expect((await history()).at(-1)).toMatch(/会话先结束/);
    // The flow was closed: an order number now is not taken as the answer to the old question.
    await talk(t.url, sessionId).user('5432').expectNoReplyMatching(/E20261029001/);
  });

  it('a customer who answers in time gets no reminder', async () => {
    let clock = Date.parse('2026-11-22T10:00:00+08:00');
    t = await startTestBot({ now: () => new Date(clock) });
    const sessionId = `s-${randomUUID()}`;
    await talk(t.url, sessionId).user('查订单').expectReply(/订单号/);
    clock += 3 * 60_000;
    await talk(t.url, sessionId).user('E20261029001').expectReply(/后4位/);
    clock += 3 * 60_000; // 6 minutes after the first question, 3 after the second
    await t.bot.delivery.runOnce();
    await t.bot.delivery.runOnce();
    const texts = (await t.bot.store.conversations.transcript(conversationIdOf(webRef(sessionId)))).map((l) => l.text);
    expect(texts.some((x) => /请问还在吗/.test(x))).toBe(false);
  });
});

describe('the shop down', () => {
  it('apologises, promises, and keeps the promise as a follow-up ticket holding the question; the bot keeps the conversation', async () => {
    const { ShopError } = await import('../src/commerce/shop.ts');
    const inner = createDemoShop(await loadShopData(DEMO_SHOP_PATH));
    const down = Object.assign(Object.create(inner) as Shop, { currency: inner.currency, order: async () => { throw new ShopError('unavailable', 'timeout'); } });
    t = await startTestBot({ shopOverride: down });
    const chat = talk(t.url);
    await chat.user('帮我查一下订单E20261029001').expectReply(/系统正忙.*记下/).expectReply(/其他问题/);
    const [ticket] = await t.bot.desk.list({ status: ['open'] });
    expect(ticket).toMatchObject({ kind: 'follow_up', reason: 'system_down', priority: 'high', conversationId: `web:${chat.sessionId}` });
    expect(ticket!.summary).toMatch(/E20261029001/);
    await chat.user('在吗').expectReply(/您好/);
  });
});
