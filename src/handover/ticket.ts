/** A ticket of the shift-handover table: DESIGN.md's vocabulary for reasons, priorities and statuses. */
import { z } from 'zod';
import { Channel, ConversationRef, Lang } from '../bots/messages.ts';
import { HandoffReason, Priority } from '../flows/schema.ts';

export const TicketStatus = z.enum(['open', 'claimed', 'resolved', 'returned_to_bot']);
export type TicketStatus = z.infer<typeof TicketStatus>;

/** Statuses in which a person still owes the customer something. */
export const ACTIVE_STATUSES: readonly TicketStatus[] = ['open', 'claimed'];

const Note = z.object({ at: z.string(), by: z.string(), text: z.string() });

export const Ticket = z.object({
  id: z.string(),
  conversationId: z.string(),
  channel: Channel,
  ref: ConversationRef,
  customerName: z.string(),
  kind: z.enum(['handoff', 'follow_up']),
  reason: HandoffReason,
  priority: Priority,
  status: TicketStatus,
  summary: z.string(),
  context: z.object({
    intent: z.string().nullable(),
    flow: z.string().nullable(),
    step: z.string().nullable(),
    slots: z.record(z.string(), z.unknown()),
    orderId: z.string().nullable(),
    lang: Lang,
  }),
  createdAt: z.string(),
  /** The first response is due then (a follow-up: the promised time). */
  dueAt: z.string(),
  firstResponseAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  /** Set when the due time passed without a first response; the priority was raised then. */
  breachedAt: z.string().nullable(),
  assignee: z.string().nullable(),
  /** The shift that owns the ticket now, and when that shift ends (then it rolls to the next). */
  shift: z.string(),
  shiftEndsAt: z.string(),
  notes: z.array(Note),
  history: z.array(z.object({ at: z.string(), by: z.string(), action: z.string(), detail: z.string().optional() })),
  handovers: z.array(z.object({ at: z.string(), by: z.string(), fromShift: z.string(), toShift: z.string(), note: z.string() })),
  satisfaction: z.object({ score: z.number().int().min(1).max(5), at: z.string() }).nullable(),
  /** The model's wording of the case, when a model is configured; `summary` (from the data) stays. */
  aiSummary: z.string().nullable().optional(),
});
export type Ticket = z.infer<typeof Ticket>;

const PRIORITY_RANK: Record<Priority, number> = { urgent: 0, high: 1, normal: 2, low: 3 };

/** Most urgent first: priority, then the earliest due time. */
export function byUrgency(a: Ticket, b: Ticket): number {
  return PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.dueAt.localeCompare(b.dueAt);
}

/** One step more urgent (an unanswered ticket past its due time rises). */
export function raised(priority: Priority): Priority {
  return priority === 'low' ? 'normal' : priority === 'normal' ? 'high' : 'urgent';
}

/** Errors of the handover table, each with the HTTP status it means. */
export class HandoverError extends Error {
  constructor(
    readonly code: 'not_found' | 'already_claimed' | 'not_yours' | 'forbidden_phrase' | 'closed' | 'invalid',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HandoverError';
  }

  get status(): number {
    return { not_found: 404, already_claimed: 409, not_yours: 409, forbidden_phrase: 422, closed: 409, invalid: 400 }[this.code];
  }
}

export const REASON_ZH: Record<HandoffReason, string> = {
  customer_request: '客户要求人工', complaint: '投诉', abuse: '情绪激动/辱骂', not_understood: '机器人无法理解',
  action_failed: '操作失败', system_down: '系统故障', follow_up: '待跟进', sla_breach: '超时未响应',
};

/** The summary an agent reads first, built from the data (an LLM may word it when configured). */
export function summaryOf(input: {
  reason: HandoffReason;
  note?: string;
  context: Ticket['context'];
  lastMessages: { from: string; text: string }[];
}): string {
  const c = input.context;
  const parts = [`原因：${REASON_ZH[input.reason]}`];
  if (input.note) parts.push(`承诺/待办：${input.note}`);
  if (c.intent) parts.push(`意图：${c.intent}`);
  if (c.flow) parts.push(`流程：${c.flow}${c.step ? ` / ${c.step}` : ''}`);
  const slots = Object.entries(c.slots).filter(([, v]) => v !== null && v !== undefined && v !== '');
  if (slots.length > 0) parts.push(`已收集：${slots.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('，')}`);
  const who: Record<string, string> = { customer: '客户', bot: '机器人', agent: '客服', system: '系统' };
  const recent = input.lastMessages.slice(-6).map((m) => `${who[m.from] ?? m.from}：${m.text.slice(0, 120)}`);
  if (recent.length > 0) parts.push(`最近消息：\n${recent.join('\n')}`);
  return parts.join('\n');
}
