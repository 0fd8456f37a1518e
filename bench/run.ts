/**
 * `npm run bench`: the benchmarks, one JSON line each, on this machine. Each starts what it needs
 * (its own redis-server on a free port, bot pipelines in this process or in child processes) and
 * stops by itself. `--quick` runs smaller sizes; `--only name,name` picks benchmarks.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { createClient } from 'redis';
import { createBot, type Bot } from '../src/bot.ts';
import { readConfig } from '../src/config.ts';
import { createLogger } from '../src/server/logger.ts';
import { createRedisStore } from '../src/store/redis.ts';
import { newDialog, step, type DialogState } from '../src/flows/engine.ts';
import { createFaqIndex, type FaqEntry } from '../src/knowledge/faq.ts';
import type { Store } from '../src/store/types.ts';
import { understand } from '../src/understanding/understand.ts';
import { startRedis } from '../test/support/redis.ts';
import { mixedConversation } from './conversations.ts';
import { drive, inbound } from './drive.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const wanted = (name: string): boolean => !only || only.includes(name);

function emit(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (x: number, digits = 2): number => Number(x.toFixed(digits));
const silent = new Writable({ write(_c, _e, done) { done(); } });

async function makeBot(store?: Store, memoSize?: number): Promise<Bot> {
  return createBot(readConfig({ PORT: '0' }), { log: createLogger('warn', silent), ...(store ? { store } : {}), ...(memoSize !== undefined ? { memoSize } : {}) });
}

/** Shares of texts read and FAQ decisions taken from the library's memory since the last call. */
function memoRates(bot: Bot): { understandMemoHitRate: number; faqMemoHitRate: number } {
  const { understand, faq } = bot.library().memoStats;
  const rate = (s: { hits: number; misses: number }): number => round(s.hits / Math.max(1, s.hits + s.misses));
  const out = { understandMemoHitRate: rate(understand), faqMemoHitRate: rate(faq) };
  for (const s of [understand, faq]) s.hits = s.misses = 0;
  return out;
}

const sleepUntil = (t: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - performance.now())));

/**
 * Customers arriving at a steady rate, as at a sale's peak: conversations start so that
 * `perSecond` messages a second are offered; each customer reads the reply and types the next
 * message 0.2–1 s later. A message's latency counts from when the customer sent it (its planned
 * time, also when the process was too busy to take it then), so a backlog shows in the figures.
 */
async function offered(bot: Bot, perSecond: number, seconds: number, first: number): Promise<{ messages: number; seconds: number; latencies: number[] }> {
  const mean = Array.from({ length: 1000 }, (_, i) => mixedConversation(first + i).length).reduce((a, b) => a + b, 0) / 1000;
  const startsPerMs = perSecond / mean / 1000;
  // Conversations last a few seconds: the figures count the messages sent after the first
  // three seconds (when the rate has built up) and before new customers stop coming.
  const rampMs = 3000;
  const timed: number[] = [];
  const running: Promise<void>[] = [];
  const t0 = performance.now();
  const end = t0 + rampMs + seconds * 1000;
  let n = 0;
  async function customer(c: number, at: number): Promise<void> {
    const sessionId = `rate-${randomUUID()}`;
    let planned = at;
    for (const [i, text] of mixedConversation(c).entries()) {
      await sleepUntil(planned);
      await bot.pipeline.handle(inbound(sessionId, text, i));
      const done = performance.now();
      if (planned >= t0 + rampMs && planned < end) timed.push(done - planned);
      planned = done + 200 + ((c * 7919 + i * 104729) % 800);
    }
  }
  for (let now = t0; now < end; now = performance.now()) {
    const due = Math.floor((now - t0) * startsPerMs);
    for (; n < due; n++) running.push(customer(first + n, t0 + n / startsPerMs));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.all(running);
  return { messages: timed.length, seconds, latencies: timed.sort((a, b) => a - b) };
}

async function pipelineBench(storeName: 'memory' | 'redis', redisUrl?: string): Promise<void> {
  const store = storeName === 'redis' ? await createRedisStore(redisUrl!, { keyPrefix: `bench${Date.now()}:` }) : undefined;
  const bot = await makeBot(store);
  await drive(bot, 200, 16, 50_000); // warm-up: JIT, jieba, scripts (other customers than the run's)
  memoRates(bot);
  // As fast as it goes: 32 customers at a time, each sending the next message on the reply.
  const run = await drive(bot, quick ? 600 : 3000, 32);
  emit({
    benchmark: 'pipeline',
    store: storeName,
    processes: 1,
    load: 'max',
    messages: run.messages,
    messagesPerSecond: Math.round(run.messages / run.seconds),
    p50Ms: round(percentile(run.latencies, 50)),
    p99Ms: round(percentile(run.latencies, 99)),
    ...memoRates(bot),
  });
  // 2,000 messages a second offered, from new customers all the time.
  const rate = await offered(bot, 2000, quick ? 5 : 15, 100_000);
  emit({
    benchmark: 'pipeline',
    store: storeName,
    processes: 1,
    load: 'offered',
    offeredPerSecond: 2000,
    messages: rate.messages,
    messagesPerSecond: Math.round(rate.messages / rate.seconds),
    p50Ms: round(percentile(rate.latencies, 50)),
    p99Ms: round(percentile(rate.latencies, 99)),
    p999Ms: round(percentile(rate.latencies, 99.9)),
    ...memoRates(bot),
  });
  await bot.close();
}

/** The same at full speed with nothing remembered: every text read and ranked anew. */
async function coldPipelineBench(redisUrl: string): Promise<void> {
  const store = await createRedisStore(redisUrl, { keyPrefix: `cold${Date.now()}:` });
  const bot = await makeBot(store, 0);
  await drive(bot, 200, 16, 50_000);
  const run = await drive(bot, quick ? 600 : 3000, 32);
  emit({
    benchmark: 'pipeline',
    store: 'redis',
    processes: 1,
    load: 'max',
    memo: false,
    messages: run.messages,
    messagesPerSecond: Math.round(run.messages / run.seconds),
    p50Ms: round(percentile(run.latencies, 50)),
    p99Ms: round(percentile(run.latencies, 99)),
  });
  await bot.close();
}

/** Redis's own CPU seconds so far (user + system), from INFO. */
async function redisCpuSeconds(url: string): Promise<number> {
  const redis = createClient({ url });
  await redis.connect();
  const info = await redis.info('cpu');
  await redis.quit();
  const field = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/**
 * Several processes on one Redis: each child runs `bench/worker.ts` (its own customers, 32 at a
 * time) and reports its own figures. Redis's CPU time per message says where Redis itself would
 * be the limit: one core's worth of it.
 */
async function multiProcessBench(redisUrl: string, processes: number): Promise<void> {
  const keyPrefix = `multi${Date.now()}:`;
  const conversations = quick ? 300 : 1200;
  const cpuBefore = await redisCpuSeconds(redisUrl);
  const children = Array.from({ length: processes }, (_, i) => spawn(process.execPath, ['--max-semi-space-size=32', '--import', 'tsx', 'bench/worker.ts'], {
    env: { ...process.env, REDIS_URL: redisUrl, BENCH_PREFIX: keyPrefix, BENCH_CONVERSATIONS: String(conversations), BENCH_FIRST: String(200_000 + i * 10_000) },
    stdio: ['ignore', 'pipe', 'inherit'],
  }));
  const reports = await Promise.all(children.map((child) => new Promise<{ messages: number; seconds: number; p50Ms: number; p99Ms: number }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { messages: number; seconds: number; p50Ms: number; p99Ms: number }));
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`bench worker exited ${code}`)); });
  })));
  const redisCpu = (await redisCpuSeconds(redisUrl)) - cpuBefore;
  const messages = reports.reduce((sum, r) => sum + r.messages, 0);
  const seconds = Math.max(...reports.map((r) => r.seconds));
  emit({
    benchmark: 'pipeline',
    store: 'redis',
    processes,
    load: 'max',
    messages,
    messagesPerSecond: Math.round(messages / seconds),
    perProcessMessagesPerSecond: reports.map((r) => Math.round(r.messages / r.seconds)),
    p50Ms: round(Math.max(...reports.map((r) => r.p50Ms))),
    p99Ms: round(Math.max(...reports.map((r) => r.p99Ms))),
    redisCpuShare: round(redisCpu / seconds),
    redisCpuMicrosecondsPerMessage: Math.round((redisCpu / messages) * 1e6),
    redisLimitMessagesPerSecond: Math.round(messages / redisCpu),
  });
}

/** Heap and Redis bytes per conversation as conversations grow; idle = after their turns. */
async function memoryBench(redisUrl: string): Promise<void> {
  const sizes = quick ? [1000, 5000] : [1000, 10_000, 100_000];
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  for (const storeName of ['memory', 'redis'] as const) {
    await redis.flushAll();
    const store = storeName === 'redis' ? await createRedisStore(redisUrl, { keyPrefix: 'mem:' }) : undefined;
    const bot = await makeBot(store);
    global.gc?.();
    const heap0 = process.memoryUsage().heapUsed;
    const redis0 = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
    let made = 0;
    for (const size of sizes) {
      let next = made;
      const worker = async (): Promise<void> => {
        for (let c = next++; c < size; c = next++) {
          const sessionId = `mem-${c}`;
          await bot.pipeline.handle(inbound(sessionId, '查订单', 0));
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      made = size;
      global.gc?.();
      const heap = process.memoryUsage().heapUsed - heap0;
      const redisBytes = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0) - redis0;
      emit({
        benchmark: 'memory',
        store: storeName,
        conversations: size,
        heapBytesPerConversation: Math.round(heap / size),
        ...(storeName === 'redis' ? { redisBytesPerConversation: Math.round(redisBytes / size) } : {}),
        gcExposed: typeof global.gc === 'function',
      });
    }
    await bot.close();
  }
  await redis.quit();
}

/** FAQ retrieval latency as the FAQ grows: the shipped entries' phrasings recombined into many entries. */
async function faqBench(): Promise<void> {
  const bot = await makeBot();
  const base = bot.library().content.faq;
  await bot.close();
  const queries = base.flatMap((e) => e.alternates.slice(0, 2));
  for (const size of quick ? [1000, 10_000] : [1000, 10_000, 100_000]) {
    const entries: FaqEntry[] = Array.from({ length: size }, (_, i) => {
      const e = base[i % base.length]!;
      const variant = Math.floor(i / base.length);
      return { ...e, id: `${e.id}_${variant}`, question: variant === 0 ? e.question : `${e.question} ${variant}号`, alternates: e.alternates.map((a) => (variant === 0 ? a : `${a} 款${variant}`)) };
    });
    const built = performance.now();
    const index = createFaqIndex(entries);
    const buildMs = performance.now() - built;
    for (const q of queries.slice(0, 20)) index.decide(q);
    const times: number[] = [];
    // Enough questions that p99 is not the fifth-slowest of a few hundred.
    for (let i = 0; i < (quick ? 2000 : 5000); i++) {
      const q = queries[i % queries.length]!;
      const t0 = performance.now();
      index.decide(q);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    emit({ benchmark: 'faq', entries: size, buildSeconds: round(buildMs / 1000), p50Ms: round(percentile(times, 50), 3), p99Ms: round(percentile(times, 99), 3) });
  }
}

/** The pure engine alone: steps per second on the shipped library, understanding done beforehand. */
async function engineBench(): Promise<void> {
  // Nothing remembered: the FAQ is asked anew at every step, as for a text never seen.
  const bot = await makeBot(undefined, 0);
  const lib = bot.library();
  await bot.close();
  const lines = ['在吗', '查订单', 'E20261029001', '包邮吗', '算了', '谢谢'];
  const understood = lines.map((text) => ({ text, u: understand(text, { classifier: lib.classifier }) }));
  let state: DialogState = newDialog();
  const n = quick ? 20_000 : 100_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const { text, u } = understood[i % understood.length]!;
    state = step(lib, state, { type: 'message', text, understanding: u, at: Date.now() }).state;
  }
  const seconds = (performance.now() - t0) / 1000;
  emit({ benchmark: 'engine', steps: n, stepsPerSecond: Math.round(n / seconds) });
}

async function main(): Promise<void> {
  if (wanted('engine')) await engineBench();
  if (wanted('faq')) await faqBench();
  if (wanted('pipeline')) await pipelineBench('memory');
  const needsRedis = ['pipeline', 'multiprocess', 'memory'].some(wanted);
  if (!needsRedis) return;
  const redis = await startRedis();
  try {
    if (wanted('pipeline')) await pipelineBench('redis', redis.url);
    if (wanted('pipeline')) await coldPipelineBench(redis.url);
    if (wanted('multiprocess')) for (const processes of [1, 2, 3]) await multiProcessBench(redis.url, processes);
    if (wanted('memory')) await memoryBench(redis.url);
  } finally {
    await redis.stop();
  }
}

await main();
process.exit(0);
