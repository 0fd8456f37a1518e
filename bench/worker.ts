/** One bot process of the multi-process benchmark: drives its share of conversations and prints its figures. */
import { Writable } from 'node:stream';
import { createBot } from '../src/bot.ts';
import { readConfig } from '../src/config.ts';
import { createLogger } from '../src/server/logger.ts';
import { createRedisStore } from '../src/store/redis.ts';
import { drive } from './drive.ts';

const silent = new Writable({ write(_c, _e, done) { done(); } });
const store = await createRedisStore(process.env.REDIS_URL!, { keyPrefix: process.env.BENCH_PREFIX ?? 'bench:' });
const bot = await createBot(readConfig({ PORT: '0' }), { log: createLogger('warn', silent), store });
const conversations = Number(process.env.BENCH_CONVERSATIONS ?? 500);
const first = Number(process.env.BENCH_FIRST ?? 0);
await drive(bot, 100, 16, first + 5_000); // warm-up: JIT, jieba, scripts (other customers)
const run = await drive(bot, conversations, 32, first);
const pick = (p: number): number => run.latencies[Math.min(run.latencies.length - 1, Math.floor((p / 100) * run.latencies.length))] ?? 0;
process.stdout.write(`${JSON.stringify({ messages: run.messages, seconds: run.seconds, p50Ms: pick(50), p99Ms: pick(99) })}\n`);
await bot.close();
process.exit(0);
