/** A conversation's saved state: where it lives, who has it (bot or person), and the dialog. Plain JSON. */
import { z } from 'zod';
import { ConversationRef, Lang } from '../bots/messages.ts';
import { newDialog, type DialogState } from '../flows/engine.ts';
import { HandoffReason, Priority, Text } from '../flows/schema.ts';
import type { JsonObject } from '../store/types.ts';

/** Bumped when the shape changes; a saved state of another version is migrated or started afresh. */
export const STATE_VERSION = 1;

export interface ConversationState {
  v: typeof STATE_VERSION;
  ref: ConversationRef;
  /** Who answers: the bot, or a person after a handoff. */
  mode: 'bot' | 'human';
  dialog: DialogState;
  customer: {
    displayName?: string;
    /** The shop customer bound to this channel identity (wechatId/telegramId), if any. */
    shopCustomerId: string | null;
  };
  /** The open handoff, while mode is human. */
  handoff: { reason: HandoffReason; priority: Priority; at: string } | null;
  /** Whether the customer was told once, in human mode, that a person is coming. */
  humanAcked: boolean;
  /** The ticket whose 回访 question was just asked; the next message may be its score. */
  satisfaction?: { ticketId: string } | null;
  /** What the last flow collected, kept after it ended (a ticket opened later still shows the order). */
  lastSlots?: Record<string, unknown>;
  /** The customer's messages in the current rate window (see the pipeline's rate limit). */
  rate?: { windowStart: number; count: number; warned: boolean };
  createdAt: string;
  updatedAt: string;
}

const FrameSchema = z.object({ flow: z.string(), step: z.string(), slots: z.record(z.string(), z.unknown()), data: z.record(z.string(), z.unknown()), tries: z.number() });

/** Checks a loaded state; a state that does not fit is not trusted (the conversation starts afresh). */
const StateSchema = z.object({
  v: z.literal(STATE_VERSION),
  ref: ConversationRef,
  mode: z.enum(['bot', 'human']),
  dialog: z.object({
    lang: Lang,
    frame: FrameSchema.nullable(),
    suspended: z.array(FrameSchema),
    last: z.object({ flow: z.string(), step: z.string() }).nullable(),
    intent: z.string().nullable(),
    notUnderstood: z.number(),
    silence: z.object({ stage: z.union([z.literal(0), z.literal(1)]), at: z.number() }).nullable(),
    salutation: Text.nullable(),
    reminder: z.object({ flow: z.string(), at: z.number(), vars: z.record(z.string(), z.unknown()) }).nullable().optional(),
    remindersOff: z.boolean().optional(),
    remindersSent: z.array(z.string()).optional(),
  }),
  customer: z.object({ displayName: z.string().optional(), shopCustomerId: z.string().nullable() }),
  handoff: z.object({ reason: HandoffReason, priority: Priority, at: z.string() }).nullable(),
  humanAcked: z.boolean(),
  satisfaction: z.object({ ticketId: z.string() }).nullable().optional(),
  rate: z.object({ windowStart: z.number(), count: z.number(), warned: z.boolean() }).optional(),
  lastSlots: z.record(z.string(), z.unknown()).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export function newConversation(ref: ConversationRef, at: Date, lang: Lang = 'zh'): ConversationState {
  const iso = at.toISOString();
  return { v: STATE_VERSION, ref, mode: 'bot', dialog: newDialog(lang), customer: { shopCustomerId: null }, handoff: null, humanAcked: false, createdAt: iso, updatedAt: iso };
}

/** The stored JSON as state, or null when it does not fit this version's shape. */
export function parseConversation(json: JsonObject): ConversationState | null {
  const parsed = StateSchema.safeParse(json);
  return parsed.success ? (parsed.data as ConversationState) : null;
}
