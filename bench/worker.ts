/** One bot process of the multi-process benchmark: drives its share of conversations and prints its figures. */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { createBot } from '../src/bot.ts';
import { readConfig } from '../src/config.ts';
import { createLogger } from '../src/server/logger.ts';
import { createRedisStore } from '../src/store/redis.ts';
import { mixedConversation } from './conversations.ts';

const silent = new Writable({ write(_c, _e, done) { done(); } });
const store = await createRedisStore(process.env.REDIS_URL!, { keyPrefix: process.env.BENCH_PREFIX ?? 'bench:' });
const bot = await createBot(readConfig({ PORT: '0' }), { log: createLogger('warn', silent), store });
const conversations = Number(process.env.BENCH_CONVERSATIONS ?? 500);
const latencies: number[] = [];
let next = 0;
const started = performance.now();
await Promise.all(Array.from({ length: 32 }, async () => {
  for (let c = next++; c < conversations; c = next++) {
    const sessionId = `w-${randomUUID()}`;
    for (const [n, text] of mixedConversation(c).entries()) {
      const t0 = performance.now();
      await bot.pipeline.handle({ id: `${sessionId}-${n}`, ref: { channel: 'web', chatId: sessionId, userId: sessionId }, customer: {}, text, at: new Date().toISOString() });
      latencies.push(performance.now() - t0);
    }
  }
}));
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pick = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(`${JSON.stringify({ messages: latencies.length, seconds, p50Ms: pick(50), p99Ms: pick(99) })}\n`);
await bot.close();
process.exit(0);
