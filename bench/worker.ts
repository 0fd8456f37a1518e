/**
 * One bot process of the pipeline benchmarks (bench/run.ts starts one per figure, several at once
 * for the multi-process one): drives customers through its pipeline and prints its figures as one
 * JSON line. Environment: REDIS_URL (else the memory store), BENCH_PREFIX, BENCH_MODE (`max`: as
 * fast as it goes, 32 customers at a time; `offered`: BENCH_RATE messages a second for
 * BENCH_SECONDS), BENCH_CONVERSATIONS, BENCH_FIRST (which customers), BENCH_MEMO=0 (nothing remembered).
 */
import { Writable } from 'node:stream';
import { createBot } from '../src/bot.ts';
import { readConfig } from '../src/config.ts';
import { createLogger } from '../src/server/logger.ts';
import { createRedisStore } from '../src/store/redis.ts';
import { drive, offered, percentile } from './drive.ts';

const env = process.env;
const silent = new Writable({ write(_c, _e, done) { done(); } });
const store = env.REDIS_URL ? await createRedisStore(env.REDIS_URL, { keyPrefix: env.BENCH_PREFIX ?? 'bench:' }) : undefined;
const bot = await createBot(readConfig({ PORT: '0' }), {
  log: createLogger('warn', silent),
  ...(store ? { store } : {}),
  ...(env.BENCH_MEMO === '0' ? { memoSize: 0 } : {}),
});
const first = Number(env.BENCH_FIRST ?? 0);
await drive(bot, 200, 16, first + 50_000); // warm-up: JIT, jieba, scripts (other customers)
const { memoStats } = bot.library();
for (const s of [memoStats.understand, memoStats.faq]) s.hits = s.misses = 0;
const cpu0 = process.cpuUsage();
const run = env.BENCH_MODE === 'offered'
  ? await offered(bot, Number(env.BENCH_RATE ?? 2000), Number(env.BENCH_SECONDS ?? 15), first + 100_000)
  : await drive(bot, Number(env.BENCH_CONVERSATIONS ?? 500), 32, first);
const cpu = process.cpuUsage(cpu0);
const rate = (s: { hits: number; misses: number }): number => Number((s.hits / Math.max(1, s.hits + s.misses)).toFixed(2));
process.stdout.write(`${JSON.stringify({
  messages: run.messages,
  seconds: run.seconds,
  p50Ms: percentile(run.latencies, 50),
  p99Ms: percentile(run.latencies, 99),
  p999Ms: percentile(run.latencies, 99.9),
  // This process's CPU (all its threads, the garbage collector's too) per message handled.
  cpuMicrosecondsPerMessage: Math.round((cpu.user + cpu.system) / Math.max(1, run.messages)),
  understandMemoHitRate: rate(memoStats.understand),
  faqMemoHitRate: rate(memoStats.faq),
})}\n`);
await bot.close();
process.exit(0);
