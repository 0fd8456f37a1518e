/** The shop's own web chat: parse a posted message into Inbound, and turn Outbound into the page's JSON. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { assertNever, type ConversationRef, type Inbound, type OrderCardData, type Outbound, type QuickReply } from './messages.ts';

/** A web chat session id: made by the page, random, and the only key to that conversation. */
export const SessionId = z.string().regex(/^[A-Za-z0-9_-]{8,100}$/, 'sessionId must be 8–100 letters, digits, _ or -');

/** The body of POST /api/webchat/messages (DESIGN.md). */
export const WebChatMessage = z.object({
  sessionId: SessionId,
  text: z.string().trim().min(1, 'text is empty').max(1000, 'text is longer than 1000 characters'),
  messageId: z.string().regex(/^[A-Za-z0-9_:.-]{1,100}$/, 'messageId must be 1–100 letters, digits or _:.-').optional(),
}).strict();
export type WebChatMessage = z.infer<typeof WebChatMessage>;

/** One reply as the page renders it. */
export interface WebReply {
  text: string;
  quickReplies?: QuickReply[];
  card?: OrderCardData;
  imageUrl?: string;
  from?: 'bot' | 'agent';
}

export function webRef(sessionId: string): ConversationRef {
  return { channel: 'web', chatId: sessionId, userId: sessionId };
}

/** The parse step: a posted message as the pipeline's Inbound. */
export function inboundFromWeb(body: WebChatMessage, at: Date): Inbound {
  return {
    // A page that sends no messageId gets a fresh one: without an id there is nothing to dedupe on.
    id: body.messageId ?? randomUUID(),
    ref: webRef(body.sessionId),
    customer: {},
    text: body.text,
    at: at.toISOString(),
  };
}

/** The send step's shape: switches over every kind and throws on an unknown one. */
export function toWebReply(message: Outbound, from?: 'bot' | 'agent'): WebReply {
  const who = from === 'agent' ? { from } : {};
  switch (message.kind) {
    case 'text': return { text: message.text, ...who };
    case 'quickReplies': return { text: message.text, quickReplies: message.options, ...who };
    case 'orderCard': return { text: message.text, card: message.order, ...who };
    case 'image': return { text: message.caption ?? '', imageUrl: message.url, ...who };
    default: return assertNever(message);
  }
}

/** The bus topic a web session's live events go out on (any process may publish, the SSE holder forwards). */
export function webTopic(sessionId: string): string {
  return `web:${sessionId}`;
}
