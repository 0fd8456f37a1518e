/** Server-sent events: a bus topic streamed to one client until it goes away (web chat, agent console). */
import type { Request, Response } from 'express';
import type { EventBus } from '../store/types.ts';

/**
 * Streams every later publish on `topic` as `data: <json>`. The `: connected` comment is written
 * only once the subscription stands, so a client that waits for it misses nothing sent after.
 * A comment every `heartbeatMs` keeps proxies from closing a quiet connection.
 */
export async function streamTopic(req: Request, res: Response, bus: EventBus, topic: string, heartbeatMs = 25_000): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  const unsubscribe = await bus.subscribe(topic, (payload) => { res.write(`data: ${JSON.stringify(payload)}\n\n`); });
  res.write(': connected\n\n');
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
  req.on('close', () => {
    clearInterval(heartbeat);
    void unsubscribe().catch(() => undefined);
  });
}
