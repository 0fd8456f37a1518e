/** Customers driven through a bot's pipeline as fast as it answers: the benchmarks' closed-loop load. */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Inbound } from '../src/bots/messages.ts';
import type { Pipeline } from '../src/conversations/pipeline.ts';
import { mixedConversation } from './conversations.ts';

/** A web chat message of customer `sessionId`, the n-th of the conversation. */
export function inbound(sessionId: string, text: string, n: number): Inbound {
  return { id: `${sessionId}-${n}`, ref: { channel: 'web', chatId: sessionId, userId: sessionId }, customer: {}, text, at: new Date().toISOString() };
}

/**
 * Drives `conversations` customers (the `first`-th on, bench/conversations.ts), `concurrency` at
 * a time, each sending its next message when the reply came; latencies sorted.
 */
export async function drive(bot: { pipeline: Pipeline }, conversations: number, concurrency: number, first = 0): Promise<{ messages: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  async function customer(): Promise<void> {
    for (let c = next++; c < conversations; c = next++) {
      const sessionId = `bench-${randomUUID()}`;
      for (const [n, text] of mixedConversation(first + c).entries()) {
        const t0 = performance.now();
        await bot.pipeline.handle(inbound(sessionId, text, n));
        latencies.push(performance.now() - t0);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, customer));
  return { messages: latencies.length, seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

const sleepUntil = (t: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - performance.now())));

/**
 * Customers arriving at a steady rate, as at a sale's peak: conversations start so that
 * `perSecond` messages a second are offered; each customer reads the reply and types the next
 * message 0.2–1 s later. A message's latency counts from when the customer sent it (its planned
 * time, also when the process was too busy to take it then), so a backlog shows in the figures.
 * The first three seconds (while the rate builds up) are not counted.
 */
export async function offered(bot: { pipeline: Pipeline }, perSecond: number, seconds: number, first: number): Promise<{ messages: number; seconds: number; latencies: number[] }> {
  const mean = Array.from({ length: 1000 }, (_, i) => mixedConversation(first + i).length).reduce((a, b) => a + b, 0) / 1000;
  const startsPerMs = perSecond / mean / 1000;
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
      // A timer may fire up to a millisecond early (libuv counts whole milliseconds): then the
      // message was sent when it fired, not at its planned time.
      const sent = Math.min(planned, performance.now());
      await bot.pipeline.handle(inbound(sessionId, text, i));
      const done = performance.now();
      if (planned >= t0 + rampMs && planned < end) timed.push(done - sent);
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

/** The p-th percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
