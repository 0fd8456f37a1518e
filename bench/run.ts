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
import type { Inbound } from '../src/bots/messages.ts';
import type { Store } from '../src/store/types.ts';
import { understand } from '../src/understanding/understand.ts';
import { startRedis } from '../test/support/redis.ts';
import { mixedConversation } from './conversations.ts';

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

async function makeBot(store?: Store): Promise<Bot> {
  return createBot(readConfig({ PORT: '0' }), { log: createLogger('warn', silent), ...(store ? { store } : {}) });
}

function inbound(sessionId: string, text: string, n: number): Inbound {
  return { id: `${sessionId}-${n}`, ref: { channel: 'web', chatId: sessionId, userId: sessionId }, customer: {}, text, at: new Date().toISOString() };
}

/**
 * Drives `conversations` customers at once through `bot.pipeline.handle`, each going through a
 * realistic mixed script (FAQ, order tracking with ownership proof, handoffs, small talk).
 */
async function drive(bot: Bot, conversations: number, concurrency: number): Promise<{ messages: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  async function worker(): Promise<void> {
    for (let c = next++; c < conversations; c = next++) {
      const sessionId = `bench-${randomUUID()}`;
      const script = mixedConversation(c);
      for (const [n, text] of script.entries()) {
        const t0 = performance.now();
        await bot.pipeline.handle(inbound(sessionId, text, n));
        latencies.push(performance.now() - t0);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { messages: latencies.length, seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

async function pipelineBench(storeName: 'memory' | 'redis', redisUrl?: string): Promise<void> {
  const store = storeName === 'redis' ? await createRedisStore(redisUrl!, { keyPrefix: `bench${Date.now()}:` }) : undefined;
  const bot = await makeBot(store);
  await drive(bot, 50, 16); // warm-up: JIT, jieba, scripts
  const run = await drive(bot, quick ? 300 : 1500, 32);
  emit({
    benchmark: 'pipeline',
    store: storeName,
    processes: 1,
    messages: run.messages,
    messagesPerSecond: Math.round(run.messages / run.seconds),
    p50Ms: round(percentile(run.latencies, 50)),
    p99Ms: round(percentile(run.latencies, 99)),
  });
  await bot.close();
}

/** Several processes on one Redis: each child runs `bench/worker.ts` and reports its own figures. */
async function multiProcessBench(redisUrl: string, processes: number): Promise<void> {
  const keyPrefix = `multi${Date.now()}:`;
  const conversations = quick ? 200 : 800;
  const children = Array.from({ length: processes }, () => spawn(process.execPath, ['--import', 'tsx', 'bench/worker.ts'], {
    env: { ...process.env, REDIS_URL: redisUrl, BENCH_PREFIX: keyPrefix, BENCH_CONVERSATIONS: String(conversations) },
    stdio: ['ignore', 'pipe', 'inherit'],
  }));
  const reports = await Promise.all(children.map((child) => new Promise<{ messages: number; seconds: number; p50Ms: number; p99Ms: number }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as { messages: number; seconds: number; p50Ms: number; p99Ms: number }));
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`bench worker exited ${code}`)); });
  })));
  const messages = reports.reduce((sum, r) => sum + r.messages, 0);
  const seconds = Math.max(...reports.map((r) => r.seconds));
  emit({
    benchmark: 'pipeline',
    store: 'redis',
    processes,
    messages,
    messagesPerSecond: Math.round(messages / seconds),
    perProcessMessagesPerSecond: reports.map((r) => Math.round(r.messages / r.seconds)),
    p50Ms: round(Math.max(...reports.map((r) => r.p50Ms))),
    p99Ms: round(Math.max(...reports.map((r) => r.p99Ms))),
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
    for (let i = 0; i < 500; i++) {
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
  const bot = await makeBot();
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
    if (wanted('multiprocess')) for (const processes of [1, 2, 3]) await multiProcessBench(redis.url, processes);
    if (wanted('memory')) await memoryBench(redis.url);
  } finally {
    await redis.stop();
  }
}

await main();
process.exit(0);
