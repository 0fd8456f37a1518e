/** The web chat API (DESIGN.md): post a message, live events over SSE, the transcript for a reload. */
import { Router } from 'express';
import { z } from 'zod';
import { inboundFromWeb, SessionId, toWebReply, webRef, webTopic, WebChatMessage } from '../bots/webchat.ts';
import { conversationIdOf } from '../bots/messages.ts';
import type { Pipeline } from '../conversations/pipeline.ts';
import type { Store } from '../store/types.ts';
import { parseOr400 } from './http-error.ts';
import { streamTopic } from './sse.ts';

export interface WebChatDeps {
  pipeline: Pipeline;
  store: Store;
  now: () => Date;
  /** Seconds between SSE keep-alive comments (proxies close quiet connections). */
  heartbeatSeconds?: number;
}

export function webchatRoutes(deps: WebChatDeps): Router {
  const router = Router();

  router.post('/messages', async (req, res) => {
    const body = parseOr400(WebChatMessage, req.body);
    const result = await deps.pipeline.handle(inboundFromWeb(body, deps.now()));
    if (result.duplicate) { res.json({ replies: [], duplicate: true }); return; }
    res.json({ replies: result.replies.map((r) => toWebReply(r)) });
  });

  router.get('/events', async (req, res) => {
    const sessionId = parseOr400(SessionId, req.query.sessionId);
    await streamTopic(req, res, deps.store.bus, webTopic(sessionId), (deps.heartbeatSeconds ?? 25) * 1000);
  });

  router.get('/history', async (req, res) => {
    const sessionId = parseOr400(SessionId, req.query.sessionId);
    const limit = parseOr400(z.coerce.number().int().min(1).max(200).default(100), req.query.limit);
    const transcript = await deps.store.conversations.transcript(conversationIdOf(webRef(sessionId)), limit);
    res.json({ transcript: transcript.map(({ from, text, at }) => ({ from, text, at })) });
  });

  return router;
}
