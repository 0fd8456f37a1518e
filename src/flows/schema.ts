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
  /** A picture the customer sends (damaged goods); "稍后发"/"later" is taken as a promise to send it later. */
  'photo',
]);
export type SlotType = z.infer<typeof SlotType>;

/** Why a conversation goes to a person (DESIGN.md's vocabulary for tickets). */
export const HandoffReason = z.enum([
  'customer_request', 'complaint', 'abuse', 'not_understood', 'action_failed', 'system_down', 'follow_up', 'sla_breach',
]);
export type HandoffReason = z.infer<typeof HandoffReason>;

export const Priority = z.enum(['urgent', 'high', 'normal', 'low']);
export type Priority = z.infer<typeof Priority>;

/** A button: its label, and the text it sends (one for both languages, or one per language). */
export const QuickReplyDef = z.object({ label: Text, value: z.union([z.string().min(1), Text]) }).strict();

const stepBase = { id: Id, next: Id.optional() };

/** A value a branch can compare a var with. */
const Scalar = z.union([z.string(), z.number(), z.boolean()]);

/** One case of a branch: a named guard, or a var equal to a value (`{var: intent, equals: cancel_order}`). */
export const BranchCase = z.union([
  z.object({ when: Id, next: Id }).strict(),
  z.object({ var: Id, equals: Scalar, next: Id }).strict(),
]);
export type BranchCase = z.infer<typeof BranchCase>;

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
    /** A data var holding quick replies ([{label, value}]) an action made (the customer's orders, an order's items). */
    optionsFrom: Id.optional(),
    /** An action run once before the question is asked, to prepare its options (e.g. offerMyOrders); its refusal is ignored. */
    before: Id.optional(),
    /**
     * For a `text` slot: the message that started the flow is the answer when it is at least this
     * long, so a customer who already said everything is not asked to repeat it (the handbooks).
     */
    prefillMinLength: z.number().int().min(1).optional(),
    /** Answers that mean "none" to an optional question ("无", "跟订单没关系", "none"): they go to onGiveUp at once. */
    skipWords: z.array(z.string().min(1)).default([]),
    /** For a `text` slot: every answer is taken as said (a complaint may name products and say "谢谢"); only 人工/算了 act. */
    keepsTopic: z.boolean().default(false),
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('choose'),
    slot: Id,
    prompt: Text,
    options: z.array(z.object({ label: Text, value: z.string().min(1), next: Id.optional(), synonyms: z.array(z.string()).optional() }).strict()).min(2).max(10),
    maxTries: z.number().int().min(1).max(5).default(2),
    onGiveUp: Id.optional(),
    /** An answer that is no option (nor a new topic, nor an FAQ question) is kept in `slot` and the flow goes to `next` ("T恤换黑色L" to "what to change?"). */
    otherwise: z.object({ slot: Id, next: Id }).strict().optional(),
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('action'),
    action: Id,
    /** Where to go when the action refuses or fails; its own reason is said first. */
    onError: Id.optional(),
    /** Slots forgotten on a refusal, so the question that gave them is asked again (an onError ask step's own slot always is). */
    clear: z.array(Id).default([]),
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('branch'),
    cases: z.array(BranchCase).min(1),
    else: Id,
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('confirm'),
    /** The read-back: every value to be applied, with {{slot}} placeholders. */
    text: Text,
    yes: Id,
    no: Id,
    /** Answers forgotten on "no", so the questions that gave them are asked again. */
    clearOnNo: z.array(Id).default([]),
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
    /** A policy value (hours) the manager sets for this promise, e.g. complaintFollowUpHours; wins over withinHours. */
    policyHours: Id.optional(),
    /** How urgent the ticket is; by reason when absent (the pipeline's default). */
    priority: Priority.optional(),
    /** What was promised, for the person who keeps the promise; {{slot}} placeholders allowed. */
    note: Text,
    /** Said to the customer (when we will answer); {{dueAt}} is the due time in the shop's words. */
    text: Text.optional(),
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('goto'),
    /** Leaves this flow for another (a shipped order's change becomes an after-sale case), keeping what is known. */
    flow: Id,
    /** Slots and data carried over, so the customer is not asked again. */
    carry: z.array(Id).default(['orderId', 'orderOwned', 'phoneLast4']),
    /** What the customer now wants, as an intent of the next flow (e.g. return_request), instead of what started this one. */
    intent: Id.optional(),
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('remind'),
    /** The flow run when the reminder is due (it re-checks, e.g. that the order is still unpaid). */
    flow: Id,
    /** A policy value (minutes) the manager sets for the delay, e.g. unpaidReminderMinutes. */
    policyMinutes: Id,
    /** Slots and data the reminder flow starts with. */
    carry: z.array(Id).default(['orderId', 'orderOwned']),
  }).strict(),
  z.object({
    ...stepBase,
    type: z.literal('stopReminders'),
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
  /** Moods (from the customer's words) that start this flow when no intent is confident: an angry customer is listened to, not sent an FAQ. */
  moods: z.array(z.enum(['negative', 'angry'])).default([]),
  /** Intents that, while this flow runs, are taken as answers to it rather than a new topic (a product named while changing an order). */
  holds: z.array(Id).default([]),
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
  /** Said after systemBusy when an action found the shop down: when the follow-up is due ({{dueAt}}). */
  systemDownPromise: Text.optional(),
  /** Said when a flow met refusals too often and a person takes over. */
  tooManyRefusals: Text.optional(),
}).catchall(Text);
export type Replies = z.infer<typeof Replies>;
/** The replies the engine itself says; other keys of replies.yaml are texts actions name (ActionDef.texts). */
export type ReplyName = 'greeting' | 'fallback' | 'fallbackOfferHuman' | 'anythingElse' | 'cancelled' | 'resume' | 'handoff'
  | 'handoffQueued' | 'humanModeAck' | 'apology' | 'systemBusy' | 'silenceReminder' | 'silenceClose' | 'abuseSoothe' | 'clarify'
  | 'humanButton' | 'rateLimited';


/** Values managers set; code never hard-codes them. */
export const Policy = z.object({
  /** Minutes of silence in the middle of a flow before a reminder, then before closing. */
  silenceRemindMinutes: z.number().positive().default(5),
  silenceCloseMinutes: z.number().positive().default(10),
  /** Turns the bot may not understand in a row before it offers / hands to a person. */
  maxNotUnderstood: z.number().int().min(1).max(5).default(2),
  /** Intent confidence needed to start a flow or switch topic inside one. */
  intentThreshold: z.number().min(0).max(1).default(0.35),
  /**
   * How much surer the FAQ must be than a confident intent to answer instead of starting its flow:
   * "地址填错了" should change the address, not explain how addresses are changed. 0: the surer wins.
   */
  flowOverFaqMargin: z.number().min(0).max(1).default(0),
  /**
   * A free-text question (a complaint, "which product?") takes any words as its answer; only an
   * intent of another flow at least this sure is taken as a change of topic there.
   */
  textTopicChangeConfidence: z.number().min(0).max(1).default(0.6),
  returnWindowDays: z.number().int().min(0).default(7),
  /** Promised answer time for questions the bot cannot answer on the spot (the handbooks: 8 hours). */
  followUpHours: z.number().positive().default(8),
  /** Refusals (wrong size, no stock, not found...) one flow takes before a person takes over. */
  maxRefusals: z.number().int().min(1).max(10).default(3),
  /** Minutes after which an unpaid order the customer looked at is followed up, once. */
  unpaidReminderMinutes: z.number().positive().default(30),
  /** Minutes after which a product the customer was sent a link for is followed up, once (abandoned cart). */
  cartReminderMinutes: z.number().positive().default(60),
  /** Hours after payment within which the shop promises to ship. */
  shipWithinHours: z.number().positive().default(48),
  /** Days a parcel normally takes after shipping (the expected arrival told to the customer). */
  deliveryDays: z.number().positive().default(3),
  /** Hours past the promise (shipping or arrival) after which a late order gets a follow-up ticket, not only an apology. */
  lateTicketHours: z.number().min(0).default(24),
  /** Hours within which a complaint that can be solved soon is answered (the ticket's due time). */
  complaintFollowUpHours: z.number().positive().default(24),
  /** The coupon the bot may offer when the shop is at fault (yuan), and the most any offer may be. */
  compensationCouponYuan: z.number().min(0).default(10),
  compensationMaxYuan: z.number().min(0).default(20),
  /** Whether the shop pays the return shipping when the goods are faulty (damaged, not as described, quality). */
  freeReturnShippingWhenFaulty: z.boolean().default(true),
  /** Return reasons (as the after-sale flow records them) that are the shop's fault: free return shipping, a photo asked for. */
  faultyReasons: z.array(z.string().min(1)).default(['质量问题', '商品破损', '与描述不符']),
  /** Where a product's page is; {{productId}} is replaced (the link the bot sends to guide a purchase). */
  productUrl: z.string().min(1).default('https://shop.example.com/item/{{productId}}'),
  /** The shop's front page, for a customer who wants to buy without a product in mind. */
  shopUrl: z.string().min(1).default('https://shop.example.com'),
}).strict().refine((p) => p.compensationCouponYuan <= p.compensationMaxYuan, {
  message: 'compensationCouponYuan is above compensationMaxYuan', path: ['compensationCouponYuan'],
});
export type Policy = z.infer<typeof Policy>;

/** Phrases no reply of the bot or an agent may contain (the handbooks' 服务用语禁忌). */
export const ForbiddenPhrases = z.array(z.string().trim().min(2)).min(1);

/** A policy value by name when it is a number (manager-set delays and thresholds), else undefined. */
export function policyNumber(policy: Policy, name: string): number | undefined {
  const value = (policy as Record<string, unknown>)[name];
  return typeof value === 'number' ? value : undefined;
}
