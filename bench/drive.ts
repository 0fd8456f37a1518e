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
