/**
 * Story tests as data: a conversation (the customer's lines and the replies expected), the channel
 * identity, and the end state (orders, tickets). `runStories` runs them against any bot, so the
 * shipped library's tests and a manager's draft library are checked the same way.
 */
import { parse } from 'yaml';
import { z } from 'zod';
import type { Outbound } from '../bots/messages.ts';
import type { Order } from '../commerce/shop.ts';

/** A reply pattern: `/regex/flags`, or text the reply must contain. */
const Pattern = z.coerce.string().min(1);

/** One line of the customer, and what the bot must (not) answer. */
export const StoryTurn = z.object({
  /** What the customer types (or taps: a quick reply's value); a bare number in YAML is its digits. */
  user: z.coerce.string().min(1),
  /** A picture sent with the line (a photo of damaged goods). */
  image: z.string().optional(),
  /** Minutes that pass before this line; due timers (reminders) fire first and their messages count as replies. */
  afterMinutes: z.number().min(0).optional(),
  /** Patterns the replies must match, in order (a pattern may match the same reply as the one before it, not an earlier one). */
  expect: z.array(Pattern).default([]),
  /** Patterns no reply may match. */
  expectNot: z.array(Pattern).default([]),
  /** Quick-reply labels (or parts of them) some reply must offer. */
  quickReplies: z.array(z.string().min(1)).default([]),
  /** The order card some reply must show. */
  card: z.string().optional(),
}).strict();
export type StoryTurn = z.infer<typeof StoryTurn>;

/** What an order must look like at the end. */
export const OrderExpectation = z.object({
  id: z.string().min(1),
  status: z.string().optional(),
  /** Nothing about the order changed (no note either). */
  unchanged: z.boolean().optional(),
  /** Notes the story added, and a pattern the last one must match (who/what is written by the shop). */
  notesAdded: z.number().int().min(0).optional(),
  lastNote: Pattern.optional(),
  lastNoteBy: Pattern.optional(),
  address: Pattern.optional(),
  phone: z.string().optional(),
  deliveryRequest: Pattern.optional(),
  items: z.array(z.object({ sku: z.string(), qty: z.number().int().optional() }).strict()).optional(),
  /** The last after-sale request. */
  afterSale: z.object({
    kind: z.enum(['return', 'exchange']),
    reason: Pattern.optional(),
    items: z.array(z.object({ sku: z.string(), newSku: z.string().optional() }).strict()).optional(),
    status: z.string().optional(),
  }).strict().optional(),
}).strict();
export type OrderExpectation = z.infer<typeof OrderExpectation>;

/** A ticket the story must have asked for (handoff or follow-up). */
export const TicketExpectation = z.object({
  kind: z.enum(['handoff', 'follow_up']),
  reason: z.string().min(1),
  priority: z.string().optional(),
  /** Pattern over what was promised (follow-ups). */
  note: Pattern.optional(),
  /** Hours from the story's start to the due time, ±0.1 h. */
  dueInHours: z.number().optional(),
}).strict();

/** One story: a conversation from one customer, and the end state. */
export const Story = z.object({
  name: z.string().min(1),
  /** web: an anonymous web-chat visitor; wechat/telegram with `user`: a bound identity if the shop knows it. */
  channel: z.enum(['web', 'wechat', 'telegram']).default('web'),
  user: z.string().min(1).optional(),
  /** The story's "now" (ISO); the demo shop's by default. */
  now: z.iso.datetime({ offset: true }).optional(),
  /** The shop behind the bot: normal, down (every call fails), slow (never answers), or down only for changes. */
  shop: z.enum(['normal', 'down', 'slow', 'changesDown']).default('normal'),
  turns: z.array(StoryTurn).min(1),
  then: z.object({
    orders: z.array(OrderExpectation).default([]),
    /** Tickets asked for; with `exactly`, no others. */
    tickets: z.array(TicketExpectation).default([]),
    ticketsExactly: z.boolean().default(true),
    /** Who has the conversation at the end. */
    mode: z.enum(['bot', 'human']).optional(),
  }).strict().default({ orders: [], tickets: [], ticketsExactly: true }),
}).strict();
export type Story = z.infer<typeof Story>;
/** A story as written (defaults not yet filled), e.g. for a console that builds one. */
export type StoryInput = z.input<typeof Story>;

/** A file of stories on one flow or theme. */
export const StoryFile = z.object({
  theme: z.string().min(1),
  stories: z.array(Story).min(1),
}).strict();
export type StoryFile = z.infer<typeof StoryFile>;

/** Parses a story file (YAML); throws with the path and reason of each problem. */
export function parseStoryFile(text: string, source: string): StoryFile {
  const result = StoryFile.safeParse(parse(text));
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${source} ${i.path.map(String).join('.')}: ${i.message}`);
  throw new Error(`story file refused:\n${problems.join('\n')}`);
}

/** A ticket as a story sees it. */
export interface StoryTicket {
  kind: 'handoff' | 'follow_up';
  reason: string;
  priority: string;
  note?: string;
  dueAt?: number;
}

/** The bot a story talks to; made fresh for each story (its own shop data and conversation). */
export interface StoryBot {
  /** The customer writes; the bot's replies. */
  say(text: string, imageUrl?: string): Promise<Outbound[]>;
  /** Time passes; what the bot sent by itself meanwhile (reminders, the silence close). */
  wait(minutes: number): Promise<Outbound[]>;
  order(id: string): Promise<Order | null>;
  tickets(): StoryTicket[];
  mode(): Promise<'bot' | 'human'>;
  /** When the story started (ms), for due times. */
  startedAt: number;
  close(): Promise<void>;
}

/** Makes the bot for one story. */
export type MakeStoryBot = (story: Story) => Promise<StoryBot>;

/** How one story went. */
export interface StoryResult {
  name: string;
  passed: boolean;
  problems: string[];
  /** The conversation as it went, for the report. */
  transcript: string[];
}

/** Whether a text matches a pattern (`/re/flags` or a part of the text). */
export function matches(pattern: string, text: string): boolean {
  const re = /^\/(.*)\/([a-z]*)$/s.exec(pattern);
  return re ? new RegExp(re[1] ?? '', re[2]).test(text) : text.includes(pattern);
}

function textOf(message: Outbound): string {
  return message.kind === 'image' ? message.caption ?? '' : message.text;
}

function describe(message: Outbound): string {
  const buttons = message.kind === 'quickReplies' ? ` [${message.options.map((o) => o.label).join(' | ')}]` : '';
  const card = message.kind === 'orderCard' ? ` <card ${message.order.orderId}>` : '';
  return `${textOf(message)}${buttons}${card}`;
}

/** Runs one story: every turn's expectations, then the end state. */
export async function runStory(story: Story, makeBot: MakeStoryBot): Promise<StoryResult> {
  const problems: string[] = [];
  const transcript: string[] = [];
  const bot = await makeBot(story);
  try {
    const before = new Map<string, Order | null>();
    for (const o of story.then.orders) before.set(o.id, await bot.order(o.id));
    for (const [i, turn] of story.turns.entries()) {
      const pushed = turn.afterMinutes ? await bot.wait(turn.afterMinutes) : [];
      for (const m of pushed) transcript.push(`  (later) bot: ${describe(m)}`);
      transcript.push(`customer: ${turn.user}${turn.image ? ' [photo]' : ''}`);
      const replies = [...pushed, ...await bot.say(turn.user, turn.image)];
      for (const m of replies.slice(pushed.length)) transcript.push(`  bot: ${describe(m)}`);
      const at = `turn ${i + 1} ("${turn.user}")`;
      let cursor = 0;
      for (const pattern of turn.expect) {
        const found = replies.slice(cursor).findIndex((m) => matches(pattern, textOf(m)));
        if (found < 0) problems.push(`${at}: no reply matches ${pattern}`);
        else cursor += found;
      }
      for (const pattern of turn.expectNot) if (replies.some((m) => matches(pattern, textOf(m)))) problems.push(`${at}: a reply matches ${pattern}, which it must not`);
      const labels = replies.flatMap((m) => (m.kind === 'quickReplies' ? m.options.map((o) => o.label) : []));
      for (const label of turn.quickReplies) if (!labels.some((l) => l.includes(label))) problems.push(`${at}: no quick reply "${label}" (offered: ${labels.join(', ') || 'none'})`);
      if (turn.card && !replies.some((m) => m.kind === 'orderCard' && m.order.orderId === turn.card)) problems.push(`${at}: no order card of ${turn.card}`);
    }
    await checkEnd(story, bot, before, problems);
  } finally {
    await bot.close();
  }
  return { name: story.name, passed: problems.length === 0, problems, transcript };
}

async function checkEnd(story: Story, bot: StoryBot, before: Map<string, Order | null>, problems: string[]): Promise<void> {
  for (const want of story.then.orders) {
    const order = await bot.order(want.id);
    const at = `order ${want.id}`;
    if (!order) { problems.push(`${at}: not found`); continue; }
    const old = before.get(want.id);
    if (want.status !== undefined && order.status !== want.status) problems.push(`${at}: status ${order.status}, expected ${want.status}`);
    if (want.unchanged && JSON.stringify(order) !== JSON.stringify(old)) problems.push(`${at}: changed, expected unchanged`);
    const added = order.notes.length - (old?.notes.length ?? 0);
    if (want.notesAdded !== undefined && added !== want.notesAdded) problems.push(`${at}: ${added} notes added, expected ${want.notesAdded}`);
    const last = order.notes.at(-1);
    if (want.lastNote !== undefined && !(last && matches(want.lastNote, last.text))) problems.push(`${at}: last note "${last?.text ?? ''}" does not match ${want.lastNote}`);
    if (want.lastNoteBy !== undefined && !(last && matches(want.lastNoteBy, last.by))) problems.push(`${at}: last note by "${last?.by ?? ''}" does not match ${want.lastNoteBy}`);
    const place = `${order.address.province}${order.address.city}${order.address.district}${order.address.detail}`;
    if (want.address !== undefined && !matches(want.address, place)) problems.push(`${at}: address "${place}" does not match ${want.address}`);
    if (want.phone !== undefined && order.address.phone !== want.phone) problems.push(`${at}: phone ${order.address.phone}, expected ${want.phone}`);
    if (want.deliveryRequest !== undefined && !matches(want.deliveryRequest, order.deliveryRequest ?? '')) problems.push(`${at}: delivery request "${order.deliveryRequest ?? ''}" does not match ${want.deliveryRequest}`);
    if (want.items) {
      const got = order.items.map((i) => `${i.sku}×${i.qty}`).join(', ');
      const ok = want.items.length === order.items.length && want.items.every((w, i) => order.items[i]?.sku === w.sku && (w.qty === undefined || order.items[i]?.qty === w.qty));
      if (!ok) problems.push(`${at}: items ${got}, expected ${want.items.map((w) => `${w.sku}×${w.qty ?? '?'}`).join(', ')}`);
    }
    if (want.afterSale) {
      const entry = order.afterSale?.at(-1);
      const isNew = (order.afterSale?.length ?? 0) > (old?.afterSale?.length ?? 0);
      if (!entry || !isNew) problems.push(`${at}: no new after-sale request`);
      else {
        if (entry.kind !== want.afterSale.kind) problems.push(`${at}: after-sale kind ${entry.kind}, expected ${want.afterSale.kind}`);
        if (want.afterSale.reason !== undefined && !matches(want.afterSale.reason, entry.reason)) problems.push(`${at}: after-sale reason "${entry.reason}" does not match ${want.afterSale.reason}`);
        if (want.afterSale.status !== undefined && entry.status !== want.afterSale.status) problems.push(`${at}: after-sale status ${entry.status}`);
        if (want.afterSale.items && JSON.stringify(entry.items) !== JSON.stringify(want.afterSale.items)) problems.push(`${at}: after-sale items ${JSON.stringify(entry.items)}, expected ${JSON.stringify(want.afterSale.items)}`);
      }
    }
  }
  const tickets = bot.tickets();
  const unmatched = [...tickets];
  for (const want of story.then.tickets) {
    const i = unmatched.findIndex((t) => t.kind === want.kind && t.reason === want.reason
      && (want.priority === undefined || t.priority === want.priority)
      && (want.note === undefined || matches(want.note, t.note ?? ''))
      && (want.dueInHours === undefined || (t.dueAt !== undefined && Math.abs((t.dueAt - bot.startedAt) / 3_600_000 - want.dueInHours) <= 0.1)));
    if (i < 0) problems.push(`no ${want.kind} ticket (${want.reason}${want.priority ? `, ${want.priority}` : ''}${want.note ? `, note ${want.note}` : ''}${want.dueInHours !== undefined ? `, due in ${want.dueInHours} h` : ''}); asked for: ${JSON.stringify(tickets)}`);
    else unmatched.splice(i, 1);
  }
  if (story.then.ticketsExactly && unmatched.length > 0) problems.push(`unexpected tickets: ${JSON.stringify(unmatched)}`);
  if (story.then.mode !== undefined) {
    const mode = await bot.mode();
    if (mode !== story.then.mode) problems.push(`conversation is with the ${mode}, expected the ${story.then.mode}`);
  }
}

/** Runs stories one after another; the manager console's "test the draft" and `npm test` both use it. */
export async function runStories(stories: readonly Story[], makeBot: MakeStoryBot): Promise<{ passed: number; failed: number; results: StoryResult[] }> {
  const results: StoryResult[] = [];
  for (const story of stories) {
    try {
      results.push(await runStory(story, makeBot));
    } catch (error) {
      results.push({ name: story.name, passed: false, problems: [`the story could not run: ${error instanceof Error ? error.message : String(error)}`], transcript: [] });
    }
  }
  const passed = results.filter((r) => r.passed).length;
  return { passed, failed: results.length - passed, results };
}
