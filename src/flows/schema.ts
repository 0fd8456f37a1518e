/** The script library's schema (zod): intents, flows of steps, replies, policy, forbidden phrases. */
import { z } from 'zod';

/** Every customer-facing text exists in Chinese and English (Chinese is the default). */
export const Text = z.object({
  zh: z.string().trim().min(1, 'the Chinese text is empty'),
  en: z.string().trim().min(1, 'the English text is empty'),
}).strict();
export type Text = z.infer<typeof Text>;

const Id = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'ids are letters, digits and _, starting with a letter (e.g. track_order, orderId)');

/** The kinds of value an `ask` step can collect; each has one extractor in src/understanding/slots.ts. */
export const SlotType = z.enum([
  'orderId', 'phone', 'phoneLast4', 'size', 'color', 'quantity', 'yesNo', 'address', 'heightCm', 'weightKg', 'text', 'number',
]);
export type SlotType = z.infer<typeof SlotType>;

/** Why a conversation goes to a person (DESIGN.md's vocabulary for tickets). */
export const HandoffReason = z.enum([
  'customer_request', 'complaint', 'abuse', 'not_understood', 'action_failed', 'system_down', 'follow_up', 'sla_breach',
]);
export type HandoffReason = z.infer<typeof HandoffReason>;

export const Priority = z.enum(['urgent', 'high', 'normal', 'low']);
export type Priority = z.infer<typeof Priority>;

export const QuickReplyDef = z.object({ label: Text, value: z.string().min(1) }).strict();

const stepBase = { id: Id, next: Id.optional() };

/** The steps a flow is made of (DESIGN.md: say, ask, choose, action, branch, confirm, handoff, end). */
export const Step = z.discriminatedUnion('type', [
  z.object({ ...stepBase, type: z.literal('say'), text: Text, quickReplies: z.array(QuickReplyDef).max(10).optional() }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('ask'),
    slot: Id,
    slotType: SlotType,
    prompt: Text,
    /** Said when the answer does not fit; the prompt is repeated when absent. */
    reprompt: Text.optional(),
    /** A named guard that must also hold for the value (e.g. a size the product has). */
    guard: Id.optional(),
    maxTries: z.number().int().min(1).max(5).default(2),
    /** Where to go when the customer could not answer `maxTries` times; a person by default. */
    onGiveUp: Id.optional(),
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('choose'),
    slot: Id,
    prompt: Text,
    options: z.array(z.object({ label: Text, value: z.string().min(1), next: Id.optional(), synonyms: z.array(z.string()).optional() }).strict()).min(2).max(10),
    maxTries: z.number().int().min(1).max(5).default(2),
    onGiveUp: Id.optional(),
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('action'),
    action: Id,
    /** Where to go when the action refuses or fails; its own reason is said first. */
    onError: Id.optional(),
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('branch'),
    cases: z.array(z.object({ when: Id, next: Id }).strict()).min(1),
    else: Id,
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('confirm'),
    /** The read-back: every value to be applied, with {{slot}} placeholders. */
    text: Text,
    yes: Id,
    no: Id,
    maxTries: z.number().int().min(1).max(5).default(2),
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('handoff'),
    reason: HandoffReason,
    priority: Priority.default('normal'),
    text: Text.optional(),
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('followUp'),
    /** A promise kept as a ticket with a due time, not a log line (the handbooks' "answer within 8 hours"). */
    reason: z.enum(['follow_up', 'system_down', 'complaint']).default('follow_up'),
    /** Hours until the promise is due; the policy's followUpHours when absent. */
    withinHours: z.number().positive().max(24 * 30).optional(),
    /** What was promised, for the person who keeps the promise; {{slot}} placeholders allowed. */
    note: Text,
    /** Said to the customer (when we will answer); {{dueAt}} is the due time in the shop's words. */
    text: Text.optional(),
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('end'),
    text: Text.optional(),
    /** Ask "请问还有其他问题吗?" before closing (the handbooks' rule); on by default. */
    askMore: z.boolean().default(true),
  }).strict(),
]);
export type Step = z.infer<typeof Step>;
export type StepOf<K extends Step['type']> = Extract<Step, { type: K }>;

/** A flow: started by one of its intents, a list of steps, the first step first. */
export const Flow = z.object({
  id: Id,
  title: Text,
  /** Intents that start this flow. */
  intents: z.array(Id).default([]),
  /** Small talk (a greeting) gives way when the FAQ can answer the same message. */
  yieldToFaq: z.boolean().default(false),
  /** Whether this flow changes an order (then the check demands a confirm before each action that changes). */
  changesOrder: z.boolean().default(false),
  steps: z.array(Step).min(1),
}).strict();
export type Flow = z.infer<typeof Flow>;

/** An intent with example phrases in both languages; the classifier is trained from them. */
export const Intent = z.object({
  id: Id,
  examples: z.object({ zh: z.array(z.string().min(1)).min(1), en: z.array(z.string().min(1)).min(1) }).strict(),
}).strict();
export type Intent = z.infer<typeof Intent>;

/** The texts the bot itself says outside flows (greeting, fallback, apology...). */
export const Replies = z.object({
  greeting: Text,
  fallback: Text,
  fallbackOfferHuman: Text,
  anythingElse: Text,
  cancelled: Text,
  resume: Text,
  handoff: Text,
  handoffQueued: Text,
  humanModeAck: Text,
  apology: Text,
  systemBusy: Text,
  silenceReminder: Text,
  silenceClose: Text,
  abuseSoothe: Text,
  clarify: Text,
  humanButton: Text,
  rateLimited: Text,
}).strict();
export type Replies = z.infer<typeof Replies>;
export type ReplyName = keyof Replies;

/** Values managers set; code never hard-codes them. */
export const Policy = z.object({
  /** Minutes of silence in the middle of a flow before a reminder, then before closing. */
  silenceRemindMinutes: z.number().positive().default(5),
  silenceCloseMinutes: z.number().positive().default(10),
  /** Turns the bot may not understand in a row before it offers / hands to a person. */
  maxNotUnderstood: z.number().int().min(1).max(5).default(2),
  /** Intent confidence needed to start a flow or switch topic inside one. */
  intentThreshold: z.number().min(0).max(1).default(0.35),
  returnWindowDays: z.number().int().min(0).default(7),
  /** Promised answer time for questions the bot cannot answer on the spot (the handbooks: 8 hours). */
  followUpHours: z.number().positive().default(8),
}).strict();
export type Policy = z.infer<typeof Policy>;

/** Phrases no reply of the bot or an agent may contain (the handbooks' 服务用语禁忌). */
export const ForbiddenPhrases = z.array(z.string().trim().min(2)).min(1);
