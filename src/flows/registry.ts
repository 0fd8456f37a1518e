/** Named behaviour the library refers to: actions (call the shop) and guards (conditions), resolved at load. */
import type { Lang, Outbound } from '../bots/messages.ts';
import type { Shop } from '../commerce/shop.ts';
import type { HandoffReason, Text } from './schema.ts';

/** A JSON value as kept in flow slots and action data. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** What a flow knows at a step: its slots and action data, and the customer's salutation. */
export type Vars = Record<string, Json>;

/** What an action may look at. It never sees the platform, only the shop and the conversation's facts. */
export interface ActionContext {
  shop: Shop;
  now: () => Date;
  lang: Lang;
  conversationId: string;
  /** The shop customer bound to this channel identity, if any (wechatId / telegramId match). */
  shopCustomerId: string | null;
  /** Slots and data of the running flow. */
  vars: Vars;
  /** Who is acting, for order notes (e.g. "bot@web:abc"). */
  actor: string;
}

/** An action's answer: data for later steps and replies, or a refusal with its reason in both languages. */
export type ActionResult =
  | { ok: true; data?: Vars; replies?: Outbound[] }
  | { ok: false; reason: string; text: Text; handoff?: HandoffReason };

export interface ActionDef {
  /** Whether it changes an order; the library check demands a confirm (read-back) before it. */
  changesOrder: boolean;
  run(ctx: ActionContext): Promise<ActionResult>;
}

export type ActionRegistry = Readonly<Record<string, ActionDef>>;

/** A condition over a flow's vars; pure and synchronous so the engine stays a pure function. */
export type Guard = (vars: Vars) => boolean;
export type GuardRegistry = Readonly<Record<string, Guard>>;
