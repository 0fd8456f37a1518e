/** Faults on real redis-server processes: Redis stopped mid-conversation, a bot process killed mid-turn, a burst from one customer. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { describeRedis, startRedis, uniqueKeyPrefix, type RedisServer } from './support/redis.ts';
import { startTestBot, type TestBot } from './support/bot.ts';
import { createRedisStore } from '../src/store/redis.ts';

async function post(base: string, sessionId: string, text: string, messageId: string = randomUUID()): Promise<{ status: number; body: { replies: { text: string }[]; duplicate?: boolean } }> {
  const res = await fetch(`${base}/api/webchat/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId, text, messageId }) });
  return { status: res.status, body: await res.json() as { replies: { text: string }[]; duplicate?: boolean } };
}

describeRedis('faults', () => {
  let redis: RedisServer;
  beforeAll(async () => { redis = await startRedis({ persist: true }); });
  afterAll(async () => { await redis?.stop(); });

  it('Redis stopped mid-conversation: a polite "system busy", nothing crashes; back, the conversation goes on and queued messages are delivered', async () => {
    const t: TestBot = await startTestBot({ store: await createRedisStore(redis.url, { keyPrefix: uniqueKeyPrefix('fault') }) });
    try {
      const sessionId = `s-${randomUUID()}`;
      expect((await post(t.url, sessionId, '查订单')).body.replies[0]?.text).toMatch(/订单号/);
      // An agent's reply waits in the outbox while delivery is paused.
      await t.bot.delivery.stop();
      await t.pushToSession(sessionId, '您好，我是客服小王');
      await redis.stop();

      const busy = await post(t.url, sessionId, 'E20261029001', 'retry-me');
      expect(busy.status).toBe(200);
      expect(busy.body.replies[0]?.text).toMatch(/系统正忙/);
      expect((await fetch(`${t.url}/healthz`)).status).toBe(503);

      await redis.restart();
      const pushed: string[] = [];
      await expect.poll(async () => t.bot.store.ping(), { timeout: 5000 }).toBe(true);
      await t.bot.store.bus.subscribe(`web:${sessionId}`, (p) => { pushed.push(String(p.text)); });
      t.bot.delivery.start();
      await expect.poll(() => pushed, { timeout: 5000 }).toContain('您好，我是客服小王');
      // The page sends the same message again: it is taken now, where the conversation was.
      const again = await post(t.url, sessionId, 'E20261029001', 'retry-me');
      expect(again.body.replies[0]?.text).toMatch(/后4位/);
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('a bot process killed in the middle of a turn: after restart the message is processed once, no reply twice', async () => {
    const keyPrefix = uniqueKeyPrefix('kill');
    const env = { ...process.env, REDIS_URL: redis.url, SLOW_ORDER_MS: '1500', BOT_KEY_PREFIX: keyPrefix };
    const startChild = async (): Promise<{ child: ChildProcess; url: string }> => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/bot-process.ts'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      const line = await new Promise<string>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout! });
        lines.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`bot process exited ${code}`)));
      });
      return { child, url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}` };
    };
    const sessionId = `s-${randomUUID()}`;
    const first = await startChild();
    try {
      // The order number starts the tracking flow, whose look-up is slow: kill the process inside it.
      const inFlight = post(first.url, sessionId, '查订单 E20261029001', 'm-kill').catch((error: unknown) => error);
      await new Promise((resolve) => setTimeout(resolve, 500));
      first.child.kill('SIGKILL');
      expect(await inFlight).toBeInstanceOf(Error);
    } finally {
      first.child.kill('SIGKILL');
    }
    const second = await startChild();
    try {
      const retried = await post(second.url, sessionId, '查订单 E20261029001', 'm-kill');
      expect(retried.body.replies.map((r) => r.text).join(' ')).toMatch(/后4位/);
      expect(await post(second.url, sessionId, '查订单 E20261029001', 'm-kill')).toMatchObject({ body: { replies: [], duplicate: true } });
      const store = await createRedisStore(redis.url, { keyPrefix });
      const lines = await store.conversations.transcript(`web:${sessionId}`);
      await store.close();
      expect(lines.filter((l) => l.from === 'customer').map((l) => l.messageId)).toEqual(['m-kill']);
      expect(lines.filter((l) => l.from === 'bot' && /后4位/.test(l.text))).toHaveLength(1);
    } finally {
      second.child.kill('SIGKILL');
    }
  }, 40_000);

  it('a burst of 100 messages from one customer: each kept once, in order of arrival, and the customer is slowed down politely', async () => {
    const t = await startTestBot({ store: await createRedisStore(redis.url, { keyPrefix: uniqueKeyPrefix('burst') }) });
    try {
      const sessionId = `s-${randomUUID()}`;
      const results = [];
      for (let i = 0; i < 100; i++) results.push(await post(t.url, sessionId, `第${i}条 在吗`, `burst-${i}`));
      // A redelivered message, late and out of order, changes nothing.
      expect((await post(t.url, sessionId, '第5条 在吗', 'burst-5')).body).toEqual({ replies: [], duplicate: true });
      const texts = results.flatMap((r) => r.body.replies.map((x) => x.text));
      expect(texts.filter((x) => /太快/.test(x))).toHaveLength(1);
      const lines = await t.bot.store.conversations.transcript(`web:${sessionId}`, 500);
      expect(lines.filter((l) => l.from === 'customer').map((l) => l.messageId)).toEqual(Array.from({ length: 100 }, (_, i) => `burst-${i}`));
    } finally {
      await t.close();
    }
  });
});
