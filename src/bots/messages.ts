/** The one inbound and one outbound message shape every channel adapter speaks (STYLE.md §1–2). */
import { z } from 'zod';

/** The channels a customer can write from. */
export const Channel = z.enum(['web', 'wechat', 'telegram']);
export type Channel = z.infer<typeof Channel>;

/** Customer-facing language; Chinese is the default everywhere. */
export const Lang = z.enum(['zh', 'en']);
export type Lang = z.infer<typeof Lang>;

/**
 * Where a conversation lives on its platform. Plain data, stored with the conversation and with
 * tickets, so a reply can be sent later from any process (botbuilder's continueConversation).
 */
export const ConversationRef = z.object({
  channel: Channel,
  /** The platform's chat: web session id, WeChat contact or room id, Telegram chat id. */
  chatId: z.string().min(1).max(200),
  /** The platform's user who wrote (equal to chatId in one-to-one chats). */
  userId: z.string().min(1).max(200),
});
export type ConversationRef = z.infer<typeof ConversationRef>;

/** A conversation's id: `<channel>:<chatId>`, e.g. `web:<sessionId>`. */
export function conversationIdOf(ref: Pick<ConversationRef, 'channel' | 'chatId'>): string {
  return `${ref.channel}:${ref.chatId}`;
}

/** What the platform tells us about the person writing. */
export const CustomerProfile = z.object({
  /** Display name or remark on the platform; the surname for the greeting comes from it. */
  displayName: z.string().max(100).optional(),
  /** The platform's language hint (Telegram's language_code), if any. */
  languageHint: z.string().max(20).optional(),
});
export type CustomerProfile = z.infer<typeof CustomerProfile>;

/** One customer message, as every channel hands it to the pipeline. */
export const Inbound = z.object({
  /** Platform message id; the pipeline drops a second delivery of the same id. */
  id: z.string().min(1).max(200),
  ref: ConversationRef,
  customer: CustomerProfile.default({}),
  text: z.string().max(4000),
  /** An image the customer sent (e.g. a photo of damaged goods), kept with the transcript. */
  imageUrl: z.string().max(2000).optional(),
  at: z.string().datetime({ offset: true }),
});
export type Inbound = z.infer<typeof Inbound>;

/** A quick reply: the label shown, and the text sent back when it is chosen. */
export const QuickReply = z.object({ label: z.string().min(1), value: z.string().min(1) });
export type QuickReply = z.infer<typeof QuickReply>;

/** The summary of an order shown as a card. Facts only from the shop, never from a model. */
export const OrderCardData = z.object({
  orderId: z.string(),
  status: z.string(),
  statusText: z.string(),
  lines: z.array(z.object({ name: z.string(), options: z.string(), qty: z.number().int(), price: z.number() })),
  total: z.number(),
  currency: z.string(),
  tracking: z.string().optional(),
});
export type OrderCardData = z.infer<typeof OrderCardData>;

/** One message to a customer; adapters switch over `kind` and throw on an unknown one. */
export const Outbound = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), text: z.string().min(1) }),
  z.object({ kind: z.literal('quickReplies'), text: z.string().min(1), options: z.array(QuickReply).min(1).max(10) }),
  z.object({ kind: z.literal('orderCard'), text: z.string().min(1), order: OrderCardData }),
  z.object({ kind: z.literal('image'), url: z.string().min(1), caption: z.string().optional() }),
]);
export type Outbound = z.infer<typeof Outbound>;

/** The plain text of an outbound message, for transcripts and text-only channels. */
export function outboundText(message: Outbound): string {
  switch (message.kind) {
    case 'text':
    case 'quickReplies':
    case 'orderCard':
      return message.text;
    case 'image':
      return message.caption ?? `[image] ${message.url}`;
    default:
      return assertNever(message);
  }
}

/** Compile-time exhaustiveness for switches over tagged unions; throws if reached at run time. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled kind: ${JSON.stringify(value)}`);
}
