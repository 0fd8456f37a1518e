/**
 * `npm run bench`: the benchmarks, one JSON line each, on this machine. Each starts what it needs
 * (its own redis-server on a free port, bot pipelines in this process or in child processes) and
 * stops by itself. `--quick` runs smaller sizes; `--only name,name` picks benchmarks.
 */
import { spawn } from 'node:child_process';
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
import { inbound, percentile } from './drive.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const wanted = (name: string): boolean => !only || only.includes(name);

function emit(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const round = (x: number, digits = 2): number => Number(x.toFixed(digits));
const silent = new Writable({ write(_c, _e, done) { done(); } });

async function makeBot(store?: Store, memoSize?: number): Promise<Bot> {
  return createBot(readConfig({ PORT: '0' }), { log: createLogger('warn', silent), ...(store ? { store } : {}), ...(memoSize !== undefined ? { memoSize } : {}) });
}

/** What one bench/worker.ts process reports. */
interface WorkerReport {
  messages: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  understandMemoHitRate: number;
  faqMemoHitRate: number;
  cpuMicrosecondsPerMessage: number;
}

/** Runs bench/worker.ts in a fresh process (as a bot runs: npm start's Node flags) and reads its line. */
function runWorker(env: Record<string, string>): Promise<WorkerReport> {
  const child = spawn(process.execPath, ['--max-semi-space-size=32', '--import', 'tsx', 'bench/worker.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise<WorkerReport>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as WorkerReport));
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`bench worker exited ${code}`)); });
  });
}

/**
 * One process, each figure from a fresh one: as fast as it goes (32 customers at a time, each
 * sending the next message on the reply), and 2,000 messages a second offered at a steady rate
 * by new customers all the time (latency from when the customer sent, bench/drive.ts). With
 * Redis also as fast as it goes with nothing remembered (every text read and ranked anew).
 */
async function pipelineBench(storeName: 'memory' | 'redis', redisUrl?: string): Promise<void> {
  const base = { ...(redisUrl ? { REDIS_URL: redisUrl } : {}), BENCH_PREFIX: `bench${Date.now()}:` };
  const max = await runWorker({ ...base, BENCH_MODE: 'max', BENCH_CONVERSATIONS: String(quick ? 600 : 3000) });
  emit({ benchmark: 'pipeline', store: storeName, processes: 1, load: 'max', messages: max.messages, messagesPerSecond: Math.round(max.messages / max.seconds), p50Ms: round(max.p50Ms), p99Ms: round(max.p99Ms), cpuMicrosecondsPerMessage: max.cpuMicrosecondsPerMessage, understandMemoHitRate: max.understandMemoHitRate, faqMemoHitRate: max.faqMemoHitRate });
  // The tail moves from run to run on a shared machine: three runs (each a fresh process), the
  // median run's figures and every run's p99.
  const runs: WorkerReport[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) runs.push(await runWorker({ ...base, BENCH_PREFIX: `${base.BENCH_PREFIX}o${i}:`, BENCH_MODE: 'offered', BENCH_RATE: '2000', BENCH_SECONDS: String(quick ? 5 : 15) }));
  const rate = [...runs].sort((a, b) => a.p99Ms - b.p99Ms)[Math.floor(runs.length / 2)]!;
  emit({ benchmark: 'pipeline', store: storeName, processes: 1, load: 'offered', offeredPerSecond: 2000, runs: runs.length, messages: rate.messages, messagesPerSecond: Math.round(rate.messages / rate.seconds), p50Ms: round(rate.p50Ms), p99Ms: round(rate.p99Ms), p999Ms: round(rate.p999Ms), p99MsOfRuns: runs.map((r) => round(r.p99Ms)), cpuMicrosecondsPerMessage: rate.cpuMicrosecondsPerMessage, understandMemoHitRate: rate.understandMemoHitRate, faqMemoHitRate: rate.faqMemoHitRate });
  if (storeName !== 'redis') return;
  const cold = await runWorker({ ...base, BENCH_MODE: 'max', BENCH_MEMO: '0', BENCH_CONVERSATIONS: String(quick ? 600 : 3000) });
  emit({ benchmark: 'pipeline', store: storeName, processes: 1, load: 'max', memo: false, messages: cold.messages, messagesPerSecond: Math.round(cold.messages / cold.seconds), p50Ms: round(cold.p50Ms), p99Ms: round(cold.p99Ms), cpuMicrosecondsPerMessage: cold.cpuMicrosecondsPerMessage });
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
 * Several processes on one Redis, each driving its own customers as fast as it goes. Redis's CPU
 * time per message says where Redis itself would be the limit: one core's worth of it. The bot
 * processes' CPU per message says whether adding processes costs each message more (contention
 * in Redis or the client): when it stays flat, throughput grows with the cores given to the bot
 * until Redis's limit.
 */
async function multiProcessBench(redisUrl: string, processes: number): Promise<void> {
  const conversations = quick ? 300 : 1200;
  const cpuBefore = await redisCpuSeconds(redisUrl);
  const reports = await Promise.all(Array.from({ length: processes }, (_, i) => runWorker({
    REDIS_URL: redisUrl, BENCH_PREFIX: `multi${Date.now()}:`, BENCH_MODE: 'max', BENCH_CONVERSATIONS: String(conversations), BENCH_FIRST: String(200_000 + i * 10_000),
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
    botCpuMicrosecondsPerMessage: Math.round(reports.reduce((sum, r) => sum + r.cpuMicrosecondsPerMessage * r.messages, 0) / messages),
    perBotCoreMessagesPerSecond: Math.round(1e6 * messages / reports.reduce((sum, r) => sum + r.cpuMicrosecondsPerMessage * r.messages, 0)),
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
        // With Redis the process keeps no conversation: its heap stays flat (given whole).
        ...(storeName === 'redis'
          ? { redisBytesPerConversation: Math.round(redisBytes / size), processHeapMB: round(process.memoryUsage().heapUsed / 1e6, 1) }
          : { heapBytesPerConversation: Math.round(heap / size) }),
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
    if (wanted('multiprocess')) for (const processes of [1, 2, 3]) await multiProcessBench(redis.url, processes);
    if (wanted('memory')) await memoryBench(redis.url);
  } finally {
    await redis.stop();
  }
}

await main();
process.exit(0);
