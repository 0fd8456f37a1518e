/** Two bot processes' pipelines on one Redis: turns of one conversation never overlap; duplicates get no second answer. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { describeRedis, startRedis } from './support/redis.ts';
import { startTestBot, type TestBot } from './support/bot.ts';
import { createDemoShop, DEMO_SHOP_PATH, loadShopData } from '../src/commerce/demo-shop.ts';
import type { Shop } from '../src/commerce/shop.ts';
import { conversationIdOf } from '../src/bots/messages.ts';
import { webRef } from '../src/bots/webchat.ts';
import { createRedisStore } from '../src/store/redis.ts';

/** A shop that notes how many order look-ups run at once per conversation's order id, slowly. */
async function watchedShop(): Promise<{ shop: Shop; maxAtOnce: () => number }> {
  const inner = createDemoShop(await loadShopData(DEMO_SHOP_PATH));
  let running = 0;
  let max = 0;
  const shop: Shop = Object.assign(Object.create(inner) as Shop, {
    currency: inner.currency,
    async order(id: string) {
      running += 1;
      max = Math.max(max, running);
      await new Promise((resolve) => setTimeout(resolve, 15));
      running -= 1;
      return inner.order(id);
    },
  });
  return { shop, maxAtOnce: () => max };
}

async function send(bot: TestBot, sessionId: string, text: string, messageId = randomUUID()): Promise<{ replies: { text: string }[]; duplicate?: boolean }> {
  const res = await fetch(`${bot.url}/api/webchat/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId, text, messageId }) });
  return await res.json() as { replies: { text: string }[]; duplicate?: boolean };
}

describeRedis('pipeline across processes (real redis-server)', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let a: TestBot;
  let b: TestBot;
  let watched: Awaited<ReturnType<typeof watchedShop>>;
  const keyPrefix = `pipe${randomUUID().slice(0, 8)}:`;

  beforeAll(async () => {
    redis = await startRedis();
    watched = await watchedShop();
    // Two bots, each with its own Redis connection, as two processes would have; one shop to watch overlap.
    a = await startTestBot({ store: await createRedisStore(redis.url, { keyPrefix }), shopOverride: watched.shop });
    b = await startTestBot({ store: await createRedisStore(redis.url, { keyPrefix }), shopOverride: watched.shop });
  });
  afterAll(async () => { await a?.close(); await b?.close(); await redis?.stop(); });


  it('never runs two turns of one conversation at once, and loses none', async () => {
    const sessionId = `s-${randomUUID()}`;
    // Each message starts the tracking flow with an order number, so each turn looks the order up.
    const sends = Array.from({ length: 16 }, (_, i) => send(i % 2 === 0 ? a : b, sessionId, `查订单 E20261029001 #${i}`));
    await Promise.all(sends);
    expect(watched.maxAtOnce()).toBe(1);
    const id = conversationIdOf(webRef(sessionId));
    const saved = await a.bot.store.conversations.load(id);
    expect(saved?.version).toBe(16);
    const transcript = await b.bot.store.conversations.transcript(id, 500);
    expect(transcript.filter((l) => l.from === 'customer')).toHaveLength(16);
  });

  it('different conversations do run at once (so the check above can fail)', async () => {
    await Promise.all(Array.from({ length: 8 }, (_, i) => send(i % 2 === 0 ? a : b, `s-${randomUUID()}`, '查订单 E20261029001')));
    expect(watched.maxAtOnce()).toBeGreaterThan(1);
  });

  it('a message delivered twice, to two processes at once, is answered once', async () => {
    const sessionId = `s-${randomUUID()}`;
    const messageId = randomUUID();
    const [first, second] = await Promise.all([send(a, sessionId, '查订单', messageId), send(b, sessionId, '查订单', messageId)]);
    const answered = [first, second].filter((r) => r.replies.length > 0);
    expect(answered).toHaveLength(1);
    expect([first, second].filter((r) => r.duplicate === true)).toHaveLength(1);
    const transcript = await a.bot.store.conversations.transcript(conversationIdOf(webRef(sessionId)));
    expect(transcript.filter((l) => l.from === 'customer')).toHaveLength(1);
  });

  it('a conversation goes on in the other process where it was', async () => {
    const sessionId = `s-${randomUUID()}`;
    expect((await send(a, sessionId, '查订单')).replies[0]?.text).toMatch(/订单号/);
    expect((await send(b, sessionId, 'E20261029001')).replies[0]?.text).toMatch(/后4位/);
    expect((await send(a, sessionId, '5432')).replies[0]?.text).toMatch(/E20261029001/);
  });
});

describeRedis('tickets across processes (real redis-server)', (server) => {
  it('two agents in two processes claim one ticket at once: one claim wins', async () => {
    const keyPrefix = `claim${randomUUID().slice(0, 8)}:`;
    const env = { ADMIN_USER: 'admin', ADMIN_PASSWORD: 'admin-pass-123' };
    const a = await startTestBot({ env, store: await createRedisStore(server().url, { keyPrefix }) });
    const b = await startTestBot({ env, store: await createRedisStore(server().url, { keyPrefix }) });
    try {
      const post = async (base: string, path: string, body: unknown, token?: string) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
      const login = async (base: string, username: string, password: string) => ((await (await post(base, '/api/auth/login', { username, password })).json()) as { token: string }).token;
      const admin = await login(a.url, 'admin', 'admin-pass-123');
      for (const username of ['wang', 'zhao']) await post(a.url, '/api/staff', { username, password: `${username}-pass-123`, role: 'agent' }, admin);
      // Each agent logs in to a different process: the session secret is shared through Redis.
      const wang = await login(a.url, 'wang', 'wang-pass-123');
      const zhao = await login(b.url, 'zhao', 'zhao-pass-123');
      await send(a, `s-${randomUUID()}`, '转人工');
      const [ticket] = await b.bot.desk.list({ status: ['open'] });
      const results = await Promise.all([post(a.url, `/api/handover/tickets/${ticket!.id}/claim`, {}, wang), post(b.url, `/api/handover/tickets/${ticket!.id}/claim`, {}, zhao)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
